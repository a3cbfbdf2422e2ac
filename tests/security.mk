# security tests
