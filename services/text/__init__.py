"""The shared text layer: sentences, phrase language, traps and lexicons for every language."""
