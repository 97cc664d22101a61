"""Shared text processing: cleaning, sentences, the phrase language, traps, the taxonomy, fingerprints and similarity."""
