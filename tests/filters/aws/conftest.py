from tests.filters.aws.harness import imds  # noqa: F401  (the fixture, for every test here)
