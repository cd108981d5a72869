"""Test helpers shipped with the package: a MongoDB wire-protocol server for tests, fake executables."""
