# Het kader van elke pagina: navigatie, taalkeuze, rollen, titels van foutpagina's.
nav-hosts = Hosts
nav-search = Zoeken
nav-components = Waar draait het?
nav-indicators = Indicatoren
nav-advisories = Beveiligingsadviezen
nav-registry = Register
nav-tokens = Tokens
nav-language = Taal
nav-logout = Uitloggen
role-coordinator = coördinator
role-admin = beheerder
role-member = lid
status-400 = Ongeldig verzoek
status-401 = Niet ingelogd
status-403 = Geen toegang
status-404 = Niet gevonden
status-409 = Conflict
status-413 = Te groot
status-422 = Niet te verwerken
status-429 = Te veel verzoeken
status-other = Fout { $code }
# Aantallen met meervoud (getallen in de notatie van de lezer).
count-hosts = { $n ->
    [one] { $n } host
   *[other] { $n } hosts
}
yes = ja
no = nee
unknown = onbekend
never = nooit
