# docs tests
