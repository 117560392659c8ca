"""What the store may skip before ranking: the fields every shortlisted advocate must have."""

from __future__ import annotations

from dataclasses import dataclass

from bot.rules.matching.grades import (
    GENERAL_FUNCTIONS,
    SENTIMENT_GOOD,
    group_words,
    plain,
    tag_fit,
    word_stems,
)
from bot.rules.matching.kinds import KIND_COVERAGE
from bot.rules.matching.policy import Policy
from bot.rules.matching.records import ROLE_ORDER, Grade, Need


@dataclass(frozen=True)
class Prefilter:
    """What any advocate on a shortlist must have, so the store can skip the rest before ranking.

    Every field is implied by the rules above: an advocate outside it is excluded or graded Poor. It may let
    through more than the rules keep (geography and the reservation are left to rank), never fewer.
    """

    role_levels: frozenset[str]
    kinds: frozenset[str]
    min_sentiment: float
    # A tag that is not Poor contains one of these (stems are prefixes of the words they come from), or is
    # the need's text itself.
    use_case_terms: frozenset[str]
    use_case_text: str
    # Functions that are not Poor for the wanted one (None stored counts too); None: any function.
    functions: frozenset[str] | None = None
    # The need's use case and the policy's groups of related words: fits_use_cases' rule.
    use_case: str = ""
    use_case_groups: tuple[frozenset[str], ...] = ()

    def fits_use_cases(self, tags: tuple[str, ...]) -> bool:
        """Some tag is not Poor for the wanted use case: the matrix's own rule (grades.tag_fit), for a store
        that can test it on a tag list rather than on text (store.fit). Exact, where the terms may let through
        more."""
        return any(tag_fit(tag, self.use_case, self.use_case_groups) is not Grade.POOR for tag in tags)


def prefilter(*, need: Need, policy: Policy) -> Prefilter:
    wanted = ROLE_ORDER.get(need.role_level, 0)
    words = word_stems(need.use_case)
    related = [group for group in group_words(policy.use_case_groups) if group & words]
    return Prefilter(
        role_levels=frozenset(level for level, rank in ROLE_ORDER.items() if rank >= wanted - 1),
        kinds=KIND_COVERAGE.get(need.kind, frozenset()),
        min_sentiment=SENTIMENT_GOOD,
        use_case_terms=frozenset(words.union(*related)),
        use_case_text=plain(need.use_case),
        functions=(
            None
            if not need.function or need.function in GENERAL_FUNCTIONS
            else frozenset({need.function, *GENERAL_FUNCTIONS})
        ),
        use_case=need.use_case,
        use_case_groups=policy.use_case_groups,
    )
