"""Security suites (issue 9): IDOR, XSS, open redirects, headers and cookies, uploads, sessions, bandit.

The route × role access matrix and the CSRF test live at the top of tests/ (test_access_matrix.py,
test_csrf.py); these suites extend them and do not repeat what they check.
"""
