"""Above the stages: the enrich -> tag -> evaluate chain without a broker, for analyze, backtests, evaluation and bench."""
