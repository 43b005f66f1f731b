"""Config loading: classic fluent-bit.conf and YAML into one model, validated by option tables."""
