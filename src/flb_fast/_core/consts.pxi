# Tunables of the compiled path, each with where its value comes from.
