"""A small English corpus written for the embeddings lab: a few hundred short sentences built
from templates about royalty and family (gender), countries and their capitals, and animals and
their young, so that word analogies by vector arithmetic have something to find.

Bounded and deterministic: ``sentences()`` returns the same list on every call (no randomness,
no downloads). Word groups (``GROUPS``) colour the 2-D projection on the page.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

# (male, female, what the pair shares): the same role, told apart by the words beside them
# (he/his, she/her), and tied together by a word of their own.
ROYAL_PAIRS = [("king", "queen", "kingdom"), ("prince", "princess", "castle"),
               ("duke", "duchess", "duchy"), ("emperor", "empress", "empire")]
FAMILY_PAIRS = [("man", "woman", "street"), ("boy", "girl", "school"), ("father", "mother", "children"),
                ("son", "daughter", "parents"), ("brother", "sister", "sibling"),
                ("uncle", "aunt", "nephew"), ("husband", "wife", "wedding")]
# (country, capital, adjective = language)
COUNTRIES = [
    ("france", "paris", "french"), ("italy", "rome", "italian"), ("germany", "berlin", "german"),
    ("spain", "madrid", "spanish"), ("japan", "tokyo", "japanese"), ("egypt", "cairo", "egyptian"),
    ("russia", "moscow", "russian"), ("greece", "athens", "greek"),
]
# (adult, young, sound)
ANIMALS = [("dog", "puppy", "barks"), ("cat", "kitten", "meows"), ("cow", "calf", "moos"),
           ("horse", "foal", "neighs"), ("sheep", "lamb", "bleats"), ("duck", "duckling", "quacks")]

# Royal words sit next to royal words (crown, throne, palace, reigns); family words next to
# everyday ones (home, works, dinner); both next to their pronouns and their own shared word.
_ROYAL = [
    "his majesty the {w} of the {x} wore his crown",
    "her majesty the {w} of the {x} wore her crown",
    "the {x} has a {w} who reigns from his palace",
    "the {x} has a {w} who reigns from her palace",
    "he reigns as {w} over the {x}",
    "she reigns as {w} over the {x}",
    "the {w} of the {x} sat on his royal throne",
    "the {w} of the {x} sat on her royal throne",
    "long live the {w} of the {x} said the royal court",
    "the crowned {w} rules the {x}",
    "the royal palace of the {w} stands in the {x}",
    "the {x} loves its royal {w}",
]
_FAMILY = [
    "he is a {w} of the {x}",
    "she is a {w} of the {x}",
    "the {w} of the {x} ate his dinner at home",
    "the {w} of the {x} ate her dinner at home",
    "the {x} saw the {w} walk to his home",
    "the {x} saw the {w} walk to her home",
    "every {w} of the {x} works hard",
    "a kind {w} of the {x} went home",
    "the {w} of the {x} goes home after work",
]
_COUNTRY = [
    "{city} is the capital of {country}",
    "{city} is the {adj} capital",
    "in {city} the {adj} capital people speak {adj}",
    "the {adj} capital city {city} is big",
    "the capital {city} is a {adj} city",
    "{country} is a {adj} country",
    "{country} is a country where people speak {adj}",
    "the {adj} country {country} has a coast",
    "{country} is a {adj} nation with many towns",
    "we crossed the {adj} country of {country} by train",
    "the {adj} city of {city} has a busy centre",
    "the mayor of {city} lives in the {adj} city",
]
_ANIMAL = [
    "the {adult} {sound} on the farm",
    "the young {young} {sound} softly",
    "a {young} is a young {adult}",
    "the little {young} {sound} and plays with the young ones",
    "the grown {adult} {sound} and sleeps in the barn",
    "the {young} grows up to be an adult {adult}",
    "an adult {adult} {sound} loudly",
    "the baby {young} {sound} for milk",
]
_OTHER = [
    "the sun is hot and the snow is cold",
    "the river runs past the farm to the sea",
    "the train leaves the city in the morning",
    "the book is old but the story is good",
    "a good day starts with a warm breakfast",
    "the children play in the park after school",
    "big dogs and small cats sleep in the sun",
    "the old man and the sea is a famous book",
]

# Words too common to say anything about their neighbours; tokenizers drop them before counting.
STOPWORDS = frozenset(
    "the a an of is are and in on to from with who as by over has its at be but for it we "
    "was were this that there where after into many".split()
)


def _pronouns(t: str, male: bool) -> bool:
    """A template with he/his suits the male word only, with she/her the female word only."""
    words = set(t.split())
    if words & {"he", "his"}:
        return male
    if words & {"she", "her"}:
        return not male
    return True


@lru_cache(maxsize=1)
def sentences() -> tuple[str, ...]:
    """Every sentence of the corpus, lower case, words separated by single spaces."""
    out: list[str] = []
    for pairs, templates in ((ROYAL_PAIRS, _ROYAL), (FAMILY_PAIRS, _FAMILY)):
        for (m, f, x), t in product(pairs, templates):
            for w, male in ((m, True), (f, False)):
                if _pronouns(t, male):
                    out.append(t.format(w=w, x=x))
    for (country, city, adj), t in product(COUNTRIES, _COUNTRY):
        out.append(t.format(country=country, city=city, adj=adj))
    for (adult, young, sound), t in product(ANIMALS, _ANIMAL):
        out.append(t.format(adult=adult, young=young, sound=sound))
    out.extend(_OTHER)
    return tuple(out)


def _groups() -> dict[str, str]:
    g: dict[str, str] = {}
    for m, f, _ in ROYAL_PAIRS:
        g[m], g[f] = "royal (male)", "royal (female)"
    for m, f, _ in FAMILY_PAIRS:
        g[m], g[f] = "family (male)", "family (female)"
    for country, city, adj in COUNTRIES:
        g[country], g[city], g[adj] = "country", "capital", "adjective / language"
    for adult, young, sound in ANIMALS:
        g[adult], g[young], g[sound] = "animal", "young animal", "animal sound"
    return g


GROUPS: dict[str, str] = _groups()
