"""Reading clinical free text into findings, with rules kept as data (nlp/data/*.yaml)."""
