"""The limits of one question, and their check, for every caller (CLI, HTTP, Python); kept apart so
that `qa --help` does not pay for importing the answer models."""

from qa.errors import InvalidQuestion

DEFAULT_TOP_K = 5
MAX_TOP_K = 50
MAX_QUESTION_CHARS = 2000


def validate_question(question: str) -> str:
    """The question stripped, or InvalidQuestion with what is wrong."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestion('The question is empty; ask something, e.g. qa ask "Who is Moussa Koussa?"')
    question = question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}.")
    return question
