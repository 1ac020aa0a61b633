"""Reading clinical free text into findings, with rules kept as data (nlp/data/*.yaml).

    >>> from backmice.nlp import extract
    >>> result = extract("47F, 3 x 2 cm tender lump over the L PSIS for 7 months. No fever.")
    >>> result.findings["size_cm"], result.findings["fever"], result.findings["location"]
    (3.0, False, 'posterior_superior_iliac_spine')
"""

from backmice.nlp.extract import Extraction, Mention, extract

__all__ = ["Extraction", "Mention", "extract"]
