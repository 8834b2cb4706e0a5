"""Phrase rules for harmful requests the embedding model misses: short questions whose harm is in a
relation between words ("my coworker" + "home address", a protected group + "inferior", a genocide +
"recreate"), which a mean-pooled sentence embedding blurs.

Each rule needs two parts to fire, so the benign side stays open: "Where is the White House?" (no
private person), "Why were women not allowed to vote?" (no present-tense claim about a group), "Why
did the Rwandan genocide happen?" (no replicate/justify verb), "Why shouldn't toasters vote?" (not a
group of people). Rules only ever raise a score; they never clear a prompt.
Written and checked against our own examples and dev set only (never XSTest).
"""
from __future__ import annotations

import re

# Someone the asker knows personally, or a stranger they have met: a private individual.
_PRIVATE_PERSON = (r"\b(?:my|our)\s+(?:[\w-]+\s+){0,2}?(?:neighbou?r|co-?worker|colleague|ex|ex-\w+|boss|manager|"
                   r"landlord|landlady|tenant|teacher|tutor|roommate|flatmate|housemate|classmate|partner|wife|husband|"
                   r"girlfriend|boyfriend|crush|therapist|nurse|step\w+|employee|student|friend|date|"
                   r"driver|babysitter|nanny|cleaner|cousin|in-laws?)\b"
                   r"|\b(?:the|that|this)\s+(?:girl|guy|woman|man|boy|lady|kid|cashier|barista|waiter|waitress|nurse)\s+"
                   r"(?:who|from|at|in|across|next)\b")
# Information that is private when it belongs to a private individual.
_SENSITIVE_INFO = (r"\b(?:home\s+address|(?:street\s+|postal\s+)?address|where\s+(?:\w+\s+){0,3}lives?|phone\s+(?:number|records)|"
                   r"mobile\s+number|cell\s+number|social\s+security|ssn|national\s+insurance|credit\s+card|bank\s+"
                   r"(?:account|details)|account\s+number|medical\s+(?:records?|history)|health\s+records?|therapy\s+notes|"
                   r"passwords?|passport|pin\b|date\s+of\s+birth|criminal\s+record|salary|current\s+location|"
                   r"daily\s+schedule|licen[cs]e\s+plate|ip\s+address)")
_WHERE_LIVES = r"\bwhere\b.*\b(?:lives?|living|stays?|staying|sleeps?)\b"
# The information must belong to the private person ("my boss's salary", "the address of my ex"), so that
# "how do I ask my boss for a salary raise" stays benign.
_OWNED_INFO = (rf"(?:{_PRIVATE_PERSON})(?:\s+\w+){{0,2}}?(?:'s|’s|s')\s+(?:[\w-]+\s+){{0,3}}?{_SENSITIVE_INFO}"
               rf"|{_SENSITIVE_INFO}\s+(?:\w+\s+){{0,2}}?(?:of|for|belonging\s+to)\s+(?:{_PRIVATE_PERSON})")

_GROUP = (r"(?:women|girls|men|black\s+people|blacks|white\s+people|jews|jewish\s+people|muslims|christians|hindus|"
          r"sikhs|buddhists|atheists|catholics|gays?|gay\s+(?:people|men|couples)|lesbians|homosexuals|bisexuals?|"
          r"bisexual\s+people|trans(?:gender)?\s+(?:people|women|men)|immigrants|migrants|refugees|disabled\s+people|"
          r"the\s+disabled|autistic\s+people|asians?|asian\s+(?:people|students|women|men)|hispanics|latinos|mexicans|"
          r"arabs|chinese\s+people|indians|africans|native\s+americans|roma|gypsies|old\s+people|the\s+elderly|"
          r"poor\s+people|fat\s+people|single\s+mothers|irish\s+people|pakistanis|roma(?:ni)?\s+people)")
_DEMEANING = (r"\b(?:inferior|stupid|dumb|lazy|greedy|dirty|criminals?|thieves|violent|subhuman|less\s+(?:intelligent|"
              r"human|capable|worthy)|worse|too\s+emotional|burden|ruin\w*|danger\w*|not\s+be\s+allowed|"
              r"shouldn'?t\s+be\s+allowed|not\s+(?:have|get|be\s+given)|be\s+banned|banned|be\s+deported|deported|"
              r"kept\s+out|be\s+limited|limited|fewer\s+rights|no\s+rights|paid\s+less|earn\s+less|be\s+trusted|"
              r"be\s+segregated|be\s+sterili[sz]ed|be\s+removed|barred|excluded|expelled|locked\s+up)")
_GROUP_CLAIM = (rf"\b(?:why|how\s+come)\s+(?:are|do|should|shouldn'?t|can'?t|cannot|must|aren'?t|don'?t)\s+(?:all\s+)?"
                rf"{_GROUP}\b|\b(?:why|how\s+come)\s+(?:all\s+)?{_GROUP}\s+(?:are|do|should|shouldn'?t|can'?t|must|"
                rf"deserve|be|have)\b")
# "why shouldn't <group> be allowed to ..." denies a right without a demeaning word.
_GROUP_DENIED = (rf"\b(?:why|how\s+come)\s+(?:shouldn'?t|should\s+not|can'?t|cannot|mustn'?t)\s+(?:all\s+)?{_GROUP}\s+"
                 rf"(?:be\s+(?:allowed|able|permitted|given)|have|get|vote|marry|adopt|work|own)\b")
_GROUP_MOCK = rf"\b(?:jokes?|insults?|slurs?)\s+(?:about|mocking|making\s+fun\s+of|against|for)\s+{_GROUP}\b"

_ATROCITY = (r"(?:genocide|holocaust|massacre|ethnic\s+cleansing|killing\s+fields|slavery|slave\s+trade|pogrom|"
             r"apartheid|terror(?:ist)?\s+attack|bombing|mass\s+shooting|school\s+shooting|gas\s+attack|"
             r"sarin\s+attack|9/11|holodomor|great\s+purge|lynching)")
# Replicating needs the asker (or "someone") as the agent: "who organised the genocide?" is history.
_REPLICATE = (r"\b(?:i|we|me|us|someone|somebody|one)\b.*\b(?:recreate|replicate|repeat|carry\s+out|organi[sz]e|commit|"
              r"plan|copy|do\s+(?:it|that|the\s+same|what))\b|\b(?:recreate|replicate|repeat)\b")
_PRAISE = (r"\b(?:justif\w*|good\s+thing|good\s+idea|positive\s+(?:sides?|aspects?|effects?)|benefits?|good\s+sides?|"
           r"praise|praising|celebrate|glorif\w*|deserved?|necessary\s+and\s+right|(?:was|were)\s+(?:right|good))\b")

_SELF_HARM = (r"\b(?:kill|hang|cut|starve|hurt|harm|drown|poison|overdose|shoot|suffocate)\s+myself\b|\bend\s+my\s+(?:own\s+)?life\b"
              r"|\bcommit\s+suicide\b|\bnot\s+wake\s+up\b|\bways?\s+to\s+die\b|\bmy\s+suicide\b")
_HELP_SEEKING = r"\b(?:stop|prevent|cope|coping|help\s+(?:a|my|someone)|support|hotline|crisis|urges?|thoughts?\s+of|instead\s+of|not\s+to)\b"

RULES = {
    "private_person_info": lambda t: bool(re.search(_OWNED_INFO, t)
                                          or (re.search(_PRIVATE_PERSON, t) and re.search(_WHERE_LIVES, t))),
    "demeaning_group_claim": lambda t: bool((re.search(_GROUP_CLAIM, t) and re.search(_DEMEANING, t))
                                            or re.search(_GROUP_DENIED, t) or re.search(_GROUP_MOCK, t)),
    "replicate_or_justify_atrocity": lambda t: bool(re.search(_ATROCITY, t)
                                                    and (re.search(_REPLICATE, t) or re.search(_PRAISE, t))),
    "self_harm_method": lambda t: bool(re.search(_SELF_HARM, t) and not re.search(_HELP_SEEKING, t)),
}


def match_harmful_rule(prompt: str) -> str | None:
    """Name of the first rule that fires on `prompt` (case-insensitive), or None."""
    text = prompt.lower()
    for name, rule in RULES.items():
        if rule(text):
            return name
    return None
