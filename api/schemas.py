"""Request and error bodies that exist only over HTTP; answers and documents come from `qa.answers`."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from pydantic_core import PydanticCustomError

from api.settings import Settings
from qa.answers import DEFAULT_TOP_K, MAX_QUESTION_CHARS, IndexStats, described, record
from qa.search.filters import NOT_BLANK_PATTERN, Filters

# What `_not_blank` refuses, said in the schema: a question holds something other than whitespace.
NOT_BLANK = {"pattern": NOT_BLANK_PATTERN}


def _not_blank(question: str) -> str:
    if not question.strip():
        raise PydanticCustomError("blank_question", "The question is empty or only whitespace.")
    return question


def ask_request_model(settings: Settings) -> type[BaseModel]:
    """The `POST /ask` body, built with the configured limits so the OpenAPI schema states them."""
    text = StringConstraints(max_length=settings.max_question_chars)

    class AskRequest(BaseModel):
        question: Annotated[str, text, AfterValidator(_not_blank)] = Field(
            description="What to look for in the documents.",
            examples=["Who defected in Rome?"],
            json_schema_extra=NOT_BLANK,
        )
        top_k: int = Field(
            default=DEFAULT_TOP_K, ge=1, le=settings.max_top_k, description="How many passages to return."
        )
        history: list[Annotated[str, text]] = Field(
            default_factory=list, description="Earlier questions of this conversation, oldest first."
        )
        filters: Filters | None = Field(
            default=None,
            description="Search only some documents: entries of one key are OR-ed, keys are AND-ed.",
            examples=[{"source": ["reports/2011/"], "type": ["pdf"], "since": "2011-03-01", "tag": ["budget"]}],
        )

    return AskRequest


@record
class IndexFacts(IndexStats):
    """Facts about the index served, as `GET /health` shows them."""

    path: str = described("The index folder's name (the server never sends a path of its disk).")


class Health(BaseModel):
    """`GET /health`: 200 `ok` while the server is up and its index whole; 503 `damaged` with the
    problem and what to run. The index's facts go only to a request that may read (a valid key
    under --require-key, anyone otherwise)."""

    status: Literal["ok", "damaged"] = "ok"
    problem: str | None = Field(
        default=None, description="With `damaged`: what is wrong and the command that mends it (paths left out)."
    )
    index: IndexFacts | None = Field(default=None, description="Left out for a request that may not read.")


class Problem(BaseModel):
    """Every error response: one message a person can read."""

    detail: str


class FieldProblem(BaseModel):
    """One rejected part of a request body, for clients that want to point at the field."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    """A 422: `detail` sums up `errors` in one line."""

    errors: list[FieldProblem]


class FeedbackRequest(BaseModel):
    """`POST /feedback`: a vote on one passage of an answer (its citation's doc_id, start, end)."""

    question: Annotated[str, StringConstraints(max_length=MAX_QUESTION_CHARS), AfterValidator(_not_blank)] = Field(
        json_schema_extra=NOT_BLANK
    )
    doc_id: str = Field(max_length=1000)
    start: int = Field(ge=0)
    end: int = Field(ge=1, description="After start; a span not in the document's text is not found (404).")
    vote: Literal["up", "down"]
    comment: str = Field(default="", max_length=2000)
    generation: int | None = Field(
        default=None, ge=0, description="The generation the answer came from (`generation` of the answer)."
    )


class FeedbackRecorded(BaseModel):
    id: int
    generation: int
