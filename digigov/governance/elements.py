"""The data-element dictionary (数据元) and its one authoritative source per element (一数一源一标准).

An element has one definition and standard (value type, a format or a check-digit validator, a
code table) and at most one authoritative source: a field of a resource declared as the element.
Catalog fields declare the element they conform to by its identifier (`resource_field.data_element`).
Identifiers are `DE` and four digits (`DE0001`) unless an editor gives a national-style code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog import may_see
from digigov.catalog.models import Field, Resource
from digigov.catalog.vocabulary import FieldType
from digigov.core import audit
from digigov.core.auth import Actor, allows, require
from digigov.core.db import utcnow
from digigov.core.errors import Invalid, NotFound
from digigov.governance import actions as _actions  # noqa: F401  (declares the actions)
from digigov.governance.errors import ElementTaken, FieldNotOfElement, SourceTaken, UnknownCodeTable
from digigov.governance.events import ElementCreated, ElementEdited, ElementsLoaded, SourceReplaced, SourceSet
from digigov.governance.models import CodeTable, DataElement
from digigov.governance.schemas.elements import ElementChanges, ElementCreate

STARTER = "shipped/data_elements.csv"


def get_element(session: Session, actor: Actor, identifier: str) -> DataElement:
    """An element by its identifier."""
    require(actor, "governance.element.read")
    element = session.scalar(select(DataElement).where(DataElement.identifier == identifier))
    if element is None:
        raise NotFound(f"Data element {identifier} does not exist.", f"数据元 {identifier} 不存在。")
    return element


def list_elements(session: Session, actor: Actor, *, q: str = "") -> list[DataElement]:
    """The dictionary in identifier order, narrowed to elements whose identifier, name or definition holds `q`."""
    require(actor, "governance.element.read")
    query = select(DataElement).order_by(DataElement.identifier)
    if q.strip():
        plain = q.strip().replace("\\", "").replace("%", "").replace("_", "")
        pattern = f"%{plain}%"
        query = query.where(
            DataElement.identifier.ilike(pattern)
            | DataElement.name.like(pattern)
            | DataElement.definition.like(pattern)
        )
    return list(session.scalars(query))


def create_element(session: Session, actor: Actor, *, data: ElementCreate) -> DataElement:
    """Add an element to the dictionary (the bureau); it has no authoritative source yet."""
    require(actor, "governance.element.edit")
    identifier = data.identifier or _next_identifier(session)
    _check_unique(session, identifier=identifier, name=data.name)
    _check_code_table(session, data.code_table)
    now = utcnow()
    element = DataElement(
        identifier=identifier,
        name=data.name,
        definition=data.definition or "",
        value_type=data.value_type.value,
        format=data.format,
        validator=data.validator,
        code_table=data.code_table,
        created_by=actor.username,
        created_at=now,
        updated_by=actor.username,
        updated_at=now,
    )
    session.add(element)
    session.flush()
    audit.record(session, actor, ElementCreated(identifier, element.name))
    return element


def update_element(session: Session, actor: Actor, *, identifier: str, changes: ElementChanges) -> DataElement:
    """Change an element's name, definition or standard (the bureau); fields set to null are cleared."""
    require(actor, "governance.element.edit")
    element = get_element(session, actor, identifier)
    patch = changes.model_dump(exclude_unset=True)
    if not patch:
        raise Invalid("Nothing to change.", "没有需要修改的内容。")
    if patch.get("name") is None and "name" in patch:
        raise Invalid("An element keeps a name.", "数据元名称不能为空。")
    if patch.get("value_type") is None and "value_type" in patch:
        raise Invalid("An element keeps a value type.", "数据元的数据类型不能为空。")
    if "name" in patch and patch["name"] != element.name:
        _check_unique(session, identifier=None, name=patch["name"])
    _check_code_table(session, patch.get("code_table"))
    for key, value in patch.items():
        setattr(element, key, value.value if isinstance(value, FieldType) else value)
    if element.definition is None:
        element.definition = ""
    element.updated_by, element.updated_at = actor.username, utcnow()
    session.flush()
    audit.record(session, actor, ElementEdited(identifier, tuple(sorted(patch))))
    return element


def _next_identifier(session: Session) -> str:
    taken = set(session.scalars(select(DataElement.identifier).where(DataElement.identifier.like("DE%"))))
    number = 1 + max((int(i[2:]) for i in taken if i[2:].isdigit()), default=0)
    return f"DE{number:04d}"


def _check_unique(session: Session, *, identifier: str | None, name: str) -> None:
    if identifier and session.scalar(select(DataElement.id).where(DataElement.identifier == identifier)):
        raise ElementTaken(f"Data element {identifier} exists.", f"数据元标识符 {identifier} 已存在。")
    if session.scalar(select(DataElement.identifier).where(DataElement.name == name)):
        raise ElementTaken(f"A data element named {name} exists.", f"已有名为“{name}”的数据元。")


def _check_code_table(session: Session, name: str | None) -> None:
    if name is not None and session.scalar(select(CodeTable.id).where(CodeTable.name == name)) is None:
        known = "、".join(session.scalars(select(CodeTable.name).order_by(CodeTable.name)))
        raise UnknownCodeTable(
            f"No code table is named '{name}'; the loaded ones are: {known or 'none'}.",
            f"没有名为“{name}”的代码表；已载入：{known or '无'}。",
        )


def source_resource(session: Session, element: DataElement) -> Resource | None:
    """The resource holding the element's authoritative source, if one is set."""
    return session.get(Resource, element.source_resource_id) if element.source_resource_id else None


def set_authoritative_source(
    session: Session, actor: Actor, *, element: str, resource_code: str, field: str, replace: bool = False
) -> DataElement:
    """Name a resource's field as the element's one authoritative source.

    The field must exist and be declared as the element. A different source already set is refused
    unless `replace` is given by the bureau (`governance.element.edit`); the move is audited.
    """
    found = get_element(session, actor, element)
    resource = _visible_resource(session, actor, resource_code)
    require(actor, "governance.element.source", resource)
    _field_of(resource, field, found.identifier)
    current = source_resource(session, found)
    if current is not None and (current.id, found.source_field) == (resource.id, field):
        return found
    if current is not None and not replace:
        raise SourceTaken(
            f"Data element {found.identifier} already has its authoritative source "
            f"{current.code}.{found.source_field}; one element has one source. To move it, "
            "the bureau sets the new source with replace=true (`digigov element source … --replace`).",
            f"数据元 {found.identifier}（{found.name}）已有权威来源 {current.code} 的“{found.source_field}”，"
            "一数一源，不能再登记第二个来源。如需变更，请由大数据局以“替换”（replace=true）方式重新登记。",
        )
    if current is not None:
        require(actor, "governance.element.edit")
    previous_field = found.source_field or ""
    found.source_resource_id, found.source_field = resource.id, field
    found.updated_by, found.updated_at = actor.username, utcnow()
    session.flush()
    if current is None:
        audit.record(session, actor, SourceSet(found.identifier, resource.code, field))
    else:
        audit.record(
            session, actor, SourceReplaced(found.identifier, resource.code, field, current.code, previous_field)
        )
    return found


def _visible_resource(session: Session, actor: Actor, code: str) -> Resource:
    resource = session.scalar(select(Resource).where(Resource.code == code))
    if resource is None or not may_see(actor, resource):
        raise NotFound(f"Resource {code} does not exist.", f"数据资源 {code} 不存在。")
    return resource


def _field_of(resource: Resource, name: str, identifier: str) -> Field:
    field = next((f for f in resource.fields if f.name == name), None)
    if field is None:
        raise FieldNotOfElement(
            f"Resource {resource.code} has no field '{name}'.",
            f"数据资源 {resource.code} 没有数据项“{name}”。",
        )
    if field.data_element != identifier:
        declared = field.data_element or "none"
        raise FieldNotOfElement(
            f"Field '{name}' of {resource.code} is declared as data element {declared}, not {identifier}; "
            "declare it in the catalog first.",
            f"数据资源 {resource.code} 的数据项“{name}”登记的数据元为 {field.data_element or '无'}，"
            f"不是 {identifier}；请先在目录中登记该数据项的数据元。",
        )
    return field


@dataclass(frozen=True)
class Usage:
    """A field of a resource declared as an element."""

    resource: Resource
    field: Field
    authoritative: bool


def element_usage(session: Session, actor: Actor, *, element: str) -> list[Usage]:
    """Which resources' fields are declared as the element, among the resources the actor may see."""
    found = get_element(session, actor, element)
    rows = session.execute(
        select(Resource, Field)
        .join(Field, Field.resource_id == Resource.id)
        .where(Field.data_element == found.identifier)
        .order_by(Resource.code, Field.position)
    )
    return [
        Usage(resource, field, (resource.id, field.name) == (found.source_resource_id, found.source_field))
        for resource, field in rows
        if may_see(actor, resource)
    ]


def load_starter_dictionary(session: Session, actor: Actor) -> list[str]:
    """Add the shipped starter elements that are missing (by identifier or name); returns those added."""
    require(actor, "governance.element.edit")
    text = resources.files("digigov.governance").joinpath(STARTER).read_text(encoding="utf-8")
    names = {k: v for k, v in session.execute(select(DataElement.name, DataElement.identifier))}
    taken = set(names.values())
    added = []
    for line in csv.DictReader(text.splitlines()):
        if line["identifier"] in taken or line["name"] in names:
            continue
        now = utcnow()
        session.add(
            DataElement(
                identifier=line["identifier"],
                name=line["name"],
                definition=line["definition"],
                value_type=FieldType(line["value_type"]).value,
                format=line["format"] or None,
                validator=line["validator"] or None,
                code_table=line["code_table"] or None,
                created_by=actor.username,
                created_at=now,
                updated_by=actor.username,
                updated_at=now,
            )
        )
        added.append(line["identifier"])
    if added:
        session.flush()
        audit.record(session, actor, ElementsLoaded(tuple(added)))
    return added


def may_edit(actor: Actor) -> bool:
    """True if the actor edits the dictionary (the bureau)."""
    return allows(actor, "governance.element.edit")
