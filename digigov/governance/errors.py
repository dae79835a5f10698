"""Errors of governance (see `digigov.core.errors` for the tree).

Conflict                         409  exit 6
├── ElementTaken                 data_element_taken          identifier or name already in the dictionary
├── SourceTaken                  authoritative_source_taken  the element has another authoritative source
└── NothingToCompare             nothing_to_compare          no authoritative source, or it has no version yet
Invalid                          422  exit 2
├── FieldNotOfElement            field_not_of_element        the field is missing or not declared as the element
└── UnknownCodeTable             unknown_code_table          no code table of that name is loaded
"""

from __future__ import annotations

from digigov.core.errors import Conflict, Invalid


class ElementTaken(Conflict):
    code = "data_element_taken"


class SourceTaken(Conflict):
    code = "authoritative_source_taken"


class NothingToCompare(Conflict):
    code = "nothing_to_compare"


class FieldNotOfElement(Invalid):
    code = "field_not_of_element"


class UnknownCodeTable(Invalid):
    code = "unknown_code_table"
