"""backmice: clinical decision support for painful lumps of the lower back and hip."""
