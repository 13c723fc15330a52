"""Passwords that appear again and again in breach lists, lower-cased. A new password is
refused if it is one of these, or one of these with digits or symbols added at either end."""

COMMON = frozenset({
    "password", "passw0rd", "p@ssword", "p@ssw0rd", "letmein", "welcome", "welcome1", "iloveyou",
    "princess", "sunshine", "football", "baseball", "monkey", "dragon", "master", "shadow",
    "superman", "batman", "trustno1", "qwerty", "qwertyuiop", "abc123", "abcdef", "123456",
    "1234567", "12345678", "123456789", "1234567890", "123123", "111111", "000000", "654321",
    "changeme", "default", "secret", "admin", "administrator", "root", "login", "guest", "test",
    "testing", "hello", "nhs", "nhsengland", "nhsmail", "mdsn", "midlands", "birmingham",
    "nottingham", "leicester", "coventry", "derby", "lincoln", "northampton", "stoke", "worcester",
    "hereford", "shrewsbury", "telford", "wolverhampton", "summer", "winter", "spring", "autumn",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "liverpool", "chelsea", "arsenal", "manchester", "manchesterunited", "tottenham", "everton",
    "passwordpassword", "password123456", "qwerty123456", "qwertyuiop123", "iloveyou1234",
    "1q2w3e4r5t6y", "1qaz2wsx3edc", "zaq12wsxcde3", "aaaaaaaaaaaa", "abcdefghijkl", "abcd1234efgh",
    "letmeinplease", "welcometonhs", "changemenow", "correcthorsebatterystaple", "correcthorse",
})
