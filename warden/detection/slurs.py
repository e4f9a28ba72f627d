"""What the encoder reads of a post at run time: slurs for a group read as the group's name.

The fine-tuned encoder learnt that a slur makes a post less violent: the slur-dense posts of the
training sets (Davidson's and HateXplain's offensive tweets) are violence negatives, and the
exemplars' calls to violence name groups. So "gas the kikes" scored 0.19 where "gas the jews"
scores 0.71, and "let's go beat these queers!" 0.04. Reading the slur as the group it targets,
the encoder sees the call for what it is. Only stage 2 (the encoder and its head) reads this, and
only at run time (and in `warden eval`, which scores as run time does): the encoder and head are
trained on the normalised text as it is, since a head fitted on this reading learns the bias
again, from offensive posts that now name groups (model card). Stage 1 and the policy's lists
read the slurs, which is where the hate and harassment scores find them. Words with an everyday
meaning ("coon", "fags" for cigarettes, "hoe", "homo" as in "homo sapiens") and everyday insults
that name no group ("retard", "cunt") are left out. Hostile words, kept only to read posts.
"""
from __future__ import annotations

import re

#: The slurs the encoder reads as a group's name, and the name: what ``warden train`` writes into a
#: model's meta.json ("encoder_reading"), from which run time reads it, so that the version digest
#: covers it and an older model reads as it was measured.
SLUR_GROUPS = {
    "kike": "jew", "kikes": "jews",
    "nigger": "black man", "niggers": "black people", "nigga": "black man", "niggas": "black people",
    "faggot": "gay man", "faggots": "gays", "queer": "gay", "queers": "gays",
    "tranny": "trans woman", "trannies": "trans people", "dyke": "lesbian", "dykes": "lesbians",
    "spic": "mexican", "spics": "mexicans", "wetback": "mexican", "wetbacks": "mexicans",
    "beaner": "mexican", "beaners": "mexicans",
    "muzzie": "muslim", "muzzies": "muslims", "raghead": "arab", "ragheads": "arabs",
    "towelhead": "arab", "towelheads": "arabs",
    "chink": "chinese man", "chinks": "chinese people", "gook": "asian man", "gooks": "asians",
    "paki": "pakistani", "pakis": "pakistanis",
    "shemale": "trans woman", "shemales": "trans women", "sand nigger": "arab", "sand niggers": "arabs",
    "jigaboo": "black man", "jigaboos": "black people", "darkie": "black man", "darkies": "black people",
    "heeb": "jew", "heebs": "jews", "kraut": "german", "krauts": "germans", "homos": "gays",
    "poofter": "gay man", "poofters": "gays", "mudslime": "muslim", "mudslimes": "muslims",
    # slurs for women: "I'm going to kill that bitch" scored 0.02, "... that woman" 0.74. Most posts
    # with them are everyday insults ("life's a bitch"), which stage 1 settles as it did; "hoe" is
    # left out (the garden tool: "grab a hoe and chop the thistles down")
    "bitch": "woman", "bitches": "women", "whore": "woman", "whores": "women", "slut": "woman", "sluts": "women",
}


def encoder_reading(groups: dict[str, str] = SLUR_GROUPS) -> dict:
    """meta.json's "encoder_reading" for a model whose encoder reads ``groups``' slurs as the
    groups' names."""
    return {"slurs_as_groups": dict(groups)}


class SlurReader:
    """Reads each slur of ``groups`` (lower case, whole words) as the group's name."""

    def __init__(self, groups: dict[str, str]):
        self.groups = dict(groups)
        self._slur = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(groups, key=len, reverse=True))) + r")\b")

    def __call__(self, norm_text: str) -> str:
        return self._slur.sub(self._group, norm_text)  # the same string back where there is none

    def _group(self, m: re.Match) -> str:
        return self.groups[m.group(0)]


def reader_for(reading: dict | None):
    """What the encoder reads of a normalised text under a model's meta.json "encoder_reading":
    its slurs as groups, or (None: models before it) the text as it is."""
    if reading is None:
        return lambda text: text
    unknown = set(reading) - {"slurs_as_groups"}
    if unknown:
        raise ValueError(f"unknown encoder reading {sorted(unknown)}")
    return SlurReader(reading["slurs_as_groups"])
