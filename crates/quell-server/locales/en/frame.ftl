# The frame of every page: navigation, language switch, roles, error page titles.
nav-hosts = Hosts
nav-search = Search
nav-components = Where does it run?
nav-indicators = Indicators
nav-advisories = Advisories
nav-registry = Registry
nav-tokens = Tokens
nav-language = Language
nav-logout = Log out
role-coordinator = coordinator
role-admin = admin
role-member = member
status-400 = Bad Request
status-401 = Unauthorized
status-403 = Forbidden
status-404 = Not Found
status-409 = Conflict
status-413 = Payload Too Large
status-422 = Unprocessable Entity
status-429 = Too Many Requests
status-other = Error { $code }
# Counts with plurals (numbers are formatted in the reader's language).
count-hosts = { $n ->
    [one] { $n } host
   *[other] { $n } hosts
}
yes = yes
no = no
unknown = unknown
never = never
