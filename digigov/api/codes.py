"""Code checks: resident ID numbers, credit codes, division codes; a wrong code is a 422."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from digigov.core import codes
from digigov.core.deps import ActorDep

router = APIRouter(prefix="/codes", tags=["codes"])

Code = Annotated[str, Path(max_length=64)]


class ResidentIdRead(BaseModel):
    number: str
    birth_date: date
    sex: str
    division: str


class CodeRead(BaseModel):
    value: str


@router.get("/resident-id/{value}", response_model=ResidentIdRead)
def resident_id(value: Code, actor: ActorDep) -> ResidentIdRead:
    """Check a resident ID number (GB 11643) and read birth date, sex and birth place."""
    facts = codes.resident_id_facts(value)
    return ResidentIdRead(number=facts.number, birth_date=facts.birth_date, sex=facts.sex, division=facts.division)


@router.get("/uscc/{value}", response_model=CodeRead)
def uscc(value: Code, actor: ActorDep) -> CodeRead:
    """Check a unified social credit code (GB 32100)."""
    return CodeRead(value=codes.parse_uscc(value))


@router.get("/division/{value}", response_model=CodeRead)
def division(value: Code, actor: ActorDep) -> CodeRead:
    """Check an administrative division code (GB/T 2260)."""
    return CodeRead(value=codes.parse_division_code(value))
