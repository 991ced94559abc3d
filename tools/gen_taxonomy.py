"""Generate ``ontology/taxonomy.ttl``: the ATLAAS, competence, OTeN and parrainage-status SKOS schemes.

The ATLAAS hierarchy (4 axes > 12 enjeux > 28 usages > 92 services) and its French labels are read from
the ``Services`` sheet of the ATLAAS workbook, the 12 OTeN themes from ``oten_thematiques.json``; what the
sources do not give (English labels, synonyms people type, competences, the OTeN→ATLAAS alignment, the
status scheme) is curated below. Edit the data here, never the generated file.

    python tools/gen_taxonomy.py            # rewrite ontology/taxonomy.ttl
    python tools/gen_taxonomy.py --check    # exit 1 when the file is stale
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from rdflib import Literal

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from ontology import iri  # noqa: E402

WORKBOOK = ROOT / "data" / "samples" / "villes_internet_atlaas.xlsx"
THEMATIQUES = ROOT / "data" / "samples" / "oten_thematiques.json"
TARGET = ROOT / "ontology" / "taxonomy.ttl"
SERVICES_HEADER = ("Id_Service", "Axe", "Enjeu de développement", "Usage", "Service")

# --------------------------------------------------------------------------------------------------------
# Curated data
# --------------------------------------------------------------------------------------------------------

ENGLISH: dict[str, str] = {
    "1": "Democracy and public services",
    "1a": "Efficient public services",
    "1a1": "Citizens' access to public services, rights and procedures",
    "1a2": "Training and involvement of elected officials and staff",
    "1a3": "Cooperation and pooling across services and administrations",
    "1b": "Vitality of local democracy",
    "1b1": "Transparency of local governance",
    "1b2": "Democratic participation of citizens",
    "1b3": "Development of community associations",
    "1c": "Protection of privacy",
    "1c1": "Respect for rights and protection of personal data",
    "1c2": "Protection of minors, critical education",
    "2": "Living together",
    "2a": "Strengthening social cohesion",
    "2a1": "Networking residents",
    "2a2": "Co-producing and hosting content",
    "2b": "Developing solidarity",
    "2b1": "Helping people in difficulty to get equipped",
    "2b2": "Social inclusion through digital",
    "2c": "Quality of everyday life",
    "2c1": "Access to practical information",
    "2c2": "Access to sports and leisure",
    "3": "Sharing knowledge",
    "3a": "Spreading and sharing educational resources",
    "3a1": "Supporting and equipping educational institutions",
    "3a2": "Training and supporting the public",
    "3a3": "Organising the educational community",
    "3b": "Developing cultural practices",
    "3b1": "Access to cultural resources",
    "3b2": "Developing artistic creation",
    "3c": "Protecting and promoting heritage",
    "3c1": "Digitising heritage resources",
    "3c2": "Access to resources and mobility",
    "4": "Creating wealth",
    "4a": "Job creation and employability",
    "4a1": "Access to employment",
    "4a2": "Access to vocational training",
    "4b": "Economic and sustainable development",
    "4b1": "Business development aid, support for innovation",
    "4b2": "Partnerships and networking of stakeholders",
    "4b3": "Sustainable development",
    "4c": "Attractiveness of the territory",
    "4c1": "Access to new technologies, broadband and very-high-speed broadband",
    "4c2": "Territorial marketing",
}

# French synonyms people type; they close vocabulary gaps in search (skos:altLabel).
ALT_LABELS: dict[str, tuple[str, ...]] = {
    # usages
    "1a1": ("démarches en ligne", "administration électronique", "e-administration", "téléservices",
            "services en ligne", "guichet numérique"),
    "1a2": ("formation des agents", "formation des élus", "acculturation numérique",
            "transformation numérique interne"),
    "1a3": ("mutualisation", "coopération intercommunale", "services partagés"),
    "1b1": ("transparence", "open data", "données ouvertes", "gouvernance ouverte"),
    "1b2": ("participation citoyenne", "démocratie participative", "civic tech", "concertation"),
    "1b3": ("vie associative", "associations"),
    "1c1": ("RGPD", "données personnelles", "vie privée", "cybersécurité"),
    "1c2": ("protection de l'enfance en ligne", "éducation au numérique", "parentalité numérique"),
    "2a1": ("lien social", "vie de quartier", "voisinage"),
    "2a2": ("contenus participatifs", "médias locaux", "contenus locaux"),
    "2b1": ("fracture numérique", "équipement des foyers", "accès à Internet pour tous"),
    "2b2": ("inclusion numérique", "e-inclusion", "médiation numérique", "illectronisme"),
    "2c1": ("information pratique", "information des habitants", "communication municipale"),
    "2c2": ("loisirs", "sport", "réservation en ligne"),
    "3a1": ("école numérique", "équipement des écoles", "numérique éducatif", "TICE"),
    "3a2": ("initiation au numérique", "ateliers numériques", "formation des habitants"),
    "3a3": ("périscolaire", "vie scolaire", "relation école-famille"),
    "3b1": ("médiathèque", "bibliothèque numérique", "ressources culturelles en ligne"),
    "3b2": ("arts numériques", "création numérique", "culture numérique"),
    "3c1": ("numérisation du patrimoine", "archives numérisées", "patrimoine"),
    "3c2": ("tourisme culturel", "visite augmentée", "patrimoine mobile"),
    "4a1": ("emploi", "recherche d'emploi", "offres d'emploi"),
    "4a2": ("formation professionnelle", "compétences numériques", "e-learning"),
    "4b1": ("innovation", "entrepreneuriat", "startups", "incubateur"),
    "4b2": ("commerce local", "réseau d'entreprises", "écosystème numérique"),
    "4b3": ("développement durable", "transition écologique", "ville intelligente", "smart city",
            "environnement"),
    "4c1": ("haut débit", "très haut débit", "THD", "fibre", "aménagement numérique", "couverture numérique",
            "internet rapide", "réseau portable", "zones blanches"),
    "4c2": ("attractivité", "marque territoriale", "promotion du territoire"),
    # services
    "S1": ("téléprocédures", "formulaires en ligne", "e-démarches", "demande d'acte d'état civil en ligne",
           "démarches en ligne"),
    "S2": ("télépaiement", "PayFiP", "TIPI", "paiement des factures en ligne"),
    "S3": ("portail famille", "espace famille", "inscriptions scolaires en ligne", "cantine",
           "restauration scolaire", "paiement de la cantine", "inscription à la crèche"),
    "S4": ("rendez-vous en ligne", "RDV en ligne", "réservation de créneau", "rendez-vous passeport"),
    "S5": ("GRU", "relation citoyen", "compte citoyen", "CRM", "gestion des demandes des usagers"),
    "S6": ("France Services", "maison de services au public", "MSAP", "guichet unique",
           "accueil unique"),
    "S7": ("montée en compétences des agents", "acculturation numérique des agents", "formation interne"),
    "S8": ("sensibilisation des élus", "élus et numérique"),
    "S9": ("intranet", "travail collaboratif", "messagerie collaborative", "visioconférence", "télétravail"),
    "S10": ("@ctes", "actes dématérialisés", "parapheur électronique", "GED",
            "gestion électronique des documents", "courrier dématérialisé", "zéro papier"),
    "S11": ("bouquet de services mutualisés", "plateforme régionale", "services mutualisés"),
    "S12": ("SIG", "système d'information géographique", "cartographie", "géomatique", "cadastre en ligne",
            "webSIG"),
    "S13": ("profil acheteur", "salle des marchés", "marchés publics en ligne", "commande publique"),
    "S14": ("logiciel libre", "open source", "communs numériques", "ADULLACT"),
    "S15": ("conseil municipal en vidéo", "conseil municipal en direct", "vidéo des séances",
            "retransmission du conseil"),
    "S16": ("open data", "données ouvertes", "données publiques", "ouverture des données", "données"),
    "S17": ("budget en ligne", "délibérations en ligne", "transparence budgétaire", "comptes rendus du conseil"),
    "S18": ("budget participatif", "budget citoyen", "vote des projets"),
    "S19": ("consultation citoyenne", "concertation en ligne", "enquête publique en ligne",
            "questionnaire en ligne"),
    "S20": ("signalement", "signaler un problème", "application de signalement", "réclamation en ligne",
            "dysfonctionnement sur la voirie"),
    "S21": ("conseil de quartier", "forum de quartier", "démocratie de proximité"),
    "S22": ("guide des associations", "répertoire associatif"),
    "S23": ("sites des associations", "hébergement des sites associatifs",
            "accompagnement numérique des associations"),
    "S24": ("réservation de salles", "location de salle", "prêt de matériel"),
    "S25": ("RGPD", "DPO", "DPD", "protection des données", "données personnelles", "registre des traitements"),
    "S26": ("cybersécurité", "sécurité informatique", "SSI", "sauvegarde", "cyberattaque", "rançongiciel"),
    "S27": ("FranceConnect", "authentification", "identifiant unique", "identité numérique"),
    "S28": ("éducation aux médias", "EMI", "désinformation", "fausses informations", "esprit critique"),
    "S29": ("harcèlement en ligne", "cyberharcèlement", "sécurité des mineurs en ligne"),
    "S30": ("prévention des risques d'Internet", "usages responsables d'Internet"),
    "S31": ("réseau social local", "réseau social de voisinage"),
    "S32": ("application de la ville", "appli mairie", "application smartphone", "city app"),
    "S33": ("entraide", "solidarité entre voisins", "services entre voisins"),
    "S34": ("webradio", "web TV", "radio locale", "télévision locale", "podcast"),
    "S35": ("carte collaborative", "OpenStreetMap", "OSM", "cartopartie"),
    "S36": ("wiki", "wiki territorial", "mémoire locale", "histoire locale"),
    "S37": ("ordinateurs reconditionnés", "réemploi informatique", "don de matériel informatique",
            "recyclage informatique"),
    "S38": ("wifi", "wi-fi", "hotspot", "accès Internet gratuit", "wifi public", "Wi-Fi territorial"),
    "S39": ("tarif social", "Internet solidaire", "box à prix réduit"),
    "S40": ("conseiller numérique", "aidant numérique", "accompagnement numérique", "médiateur numérique"),
    "S41": ("aide aux démarches", "Aidants Connect", "accompagnement administratif",
            "écrivain public numérique"),
    "S42": ("chèque numérique", "APTIC"),
    "S43": ("site internet", "site web municipal", "site de la mairie", "portail internet",
            "refonte du site"),
    "S44": ("alerte SMS", "notifications", "système d'alerte", "alerte météo", "lettre d'information"),
    "S45": ("info trafic", "horaires de bus", "transports", "mobilité", "covoiturage",
            "information voyageurs", "stationnement"),
    "S46": ("affichage dynamique", "panneaux lumineux", "écrans d'information", "PanneauPocket"),
    "S47": ("réservation de gymnase", "réservation de court de tennis", "équipements sportifs"),
    "S48": ("billetterie", "réservation de spectacles", "e-billet"),
    "S49": ("agenda", "agenda culturel", "sorties", "événements"),
    "S50": ("tablettes", "TNI", "VPI", "tableaux numériques interactifs", "classe numérique",
            "équipement numérique des écoles"),
    "S51": ("ENT", "cahier de textes en ligne"),
    "S52": ("fibre dans les écoles", "connexion des écoles", "Internet à l'école"),
    "S53": ("EPN", "cyberbase", "cyber-base", "salle informatique publique", "point d'accès public à Internet",
            "espace multimédia"),
    "S54": ("initiation informatique", "cours d'informatique", "ateliers numériques", "formation des seniors"),
    "S55": ("fablab", "fab lab", "impression 3D", "makerspace", "atelier de fabrication"),
    "S56": ("inscriptions périscolaires", "accueil de loisirs", "centre de loisirs", "garderie"),
    "S57": ("aide aux devoirs", "soutien scolaire"),
    "S58": ("relation école-famille", "cahier de liaison numérique", "parents d'élèves"),
    "S59": ("ressources numériques", "livres numériques", "prêt de livres numériques", "e-books",
            "bibliothèque numérique", "VOD"),
    "S60": ("réseau de bibliothèques", "catalogue en ligne", "OPAC", "réseau de lecture publique"),
    "S61": ("visite virtuelle", "musée virtuel", "collections en ligne"),
    "S62": ("résidence numérique", "artistes numériques"),
    "S63": ("festival numérique", "arts numériques"),
    "S64": ("studio multimédia", "studio son", "création vidéo"),
    "S65": ("archives en ligne", "état civil numérisé", "registres paroissiaux", "archives numérisées"),
    "S66": ("modélisation 3D", "photogrammétrie", "numérisation du patrimoine"),
    "S67": ("inventaire du patrimoine", "patrimoine participatif"),
    "S68": ("réalité augmentée", "parcours patrimonial", "balade numérique", "géocaching"),
    "S69": ("QR code", "audioguide", "flashcode", "signalétique numérique"),
    "S70": ("appli tourisme", "application de visite", "guide touristique mobile"),
    "S71": ("offres d'emploi", "bourse de l'emploi", "emploi local"),
    "S72": ("salon de l'emploi en ligne", "forum virtuel", "job dating"),
    "S73": ("cyber-emploi", "espace emploi", "recherche d'emploi en ligne"),
    "S74": ("MOOC", "e-learning", "formation à distance", "apprentissage en ligne"),
    "S75": ("PIX", "PIM", "passeport Internet et multimédia", "certification numérique"),
    "S76": ("Grande École du Numérique", "formation aux métiers du numérique", "codage", "reconversion"),
    "S77": ("incubateur", "pépinière d'entreprises", "startups", "accélérateur"),
    "S78": ("tiers-lieu", "tiers lieu", "coworking", "espace de coworking", "télécentre",
            "espace de travail partagé"),
    "S79": ("laboratoire d'innovation", "expérimentation", "innovation ouverte"),
    "S80": ("commerce en ligne local", "click and collect", "boutique en ligne des commerçants",
            "commerce de proximité", "marketplace locale"),
    "S81": ("répertoire des entreprises", "annuaire économique"),
    "S82": ("cluster numérique", "écosystème numérique", "réseau d'entreprises du numérique"),
    "S83": ("éclairage LED", "éclairage connecté", "smart lighting"),
    "S84": ("économies d'énergie", "consommation énergétique", "gestion de l'énergie", "bâtiments intelligents"),
    "S85": ("qualité de l'air", "capteurs", "mesure du bruit", "IoT", "objets connectés"),
    "S86": ("compteurs communicants", "télérelève", "gestion de l'eau", "fuites d'eau"),
    "S87": ("fibre", "fibre optique", "FTTH", "très haut débit", "THD", "réseau d'initiative publique", "RIP"),
    "S88": ("zones blanches", "haut débit", "ADSL", "montée en débit", "Internet en zone rurale",
            "Wi-Fi longue portée", "WiMAX"),
    "S89": ("réseau portable", "réseau mobile", "couverture 4G", "antennes relais", "zones blanches mobiles",
            "téléphonie mobile", "5G", "pas de réseau"),
    "S90": ("marque territoriale", "marketing territorial", "attractivité", "site de promotion du territoire"),
    "S91": ("réseaux sociaux", "Facebook", "Instagram", "community management"),
    "S92": ("site touristique", "office de tourisme", "office de tourisme en ligne", "tourisme"),
}


@dataclass(frozen=True)
class Competence:
    fr: str
    en: str
    alt: tuple[str, ...] = field(default_factory=tuple)


# The alt labels cover the free-text competences of the OTeN fiches, so that the OTeN importer maps each
# to one concept by normalised label (a test checks the sample file).
COMPETENCES: dict[str, Competence] = {
    "conduite-de-projet": Competence("Conduite de projet", "Project management",
                                     ("gestion de projet", "pilotage de projet", "planification")),
    "conduite-du-changement": Competence("Conduite du changement", "Change management",
                                         ("organisation des services", "accompagnement au changement")),
    "marches-publics": Competence("Marchés publics", "Public procurement",
                                  ("commande publique", "achat public", "groupement de commandes",
                                   "marchés de numérisation")),
    "delegation-service-public": Competence("Délégation de service public", "Public service delegation",
                                            ("DSP", "délégation à un opérateur", "gestion de contrat",
                                             "partenariats public-privé")),
    "ingenierie-juridique": Competence("Ingénierie juridique et institutionnelle", "Legal engineering",
                                       ("ingénierie juridique (GIP)", "ingénierie juridique",
                                        "propriété intellectuelle", "statuts de syndicat mixte")),
    "relation-usager": Competence("Gestion de la relation usager", "Citizen relationship management",
                                  ("GRU", "accueil du public", "accueil des usagers",
                                   "organisation des guichets", "démarches administratives", "état civil")),
    "dematerialisation": Competence("Dématérialisation des procédures", "Paperless procedures",
                                    ("dématérialisation", "gestion électronique de documents", "GED",
                                     "instruction de dossiers")),
    "administration-site-web": Competence("Administration de site web", "Website administration",
                                          ("gestion de contenus", "webmestre", "CMS")),
    "redaction-web": Competence("Rédaction web", "Web writing",
                                ("rédaction", "écriture collaborative", "traduction")),
    "communication-publique": Competence("Communication publique", "Public communication",
                                         ("communication", "communication institutionnelle")),
    "protection-des-donnees": Competence("Protection des données personnelles (RGPD)",
                                         "Personal data protection (GDPR)",
                                         ("RGPD", "protection des données", "protection des données personnelles",
                                          "délégué à la protection des données")),
    "securite-informatique": Competence("Sécurité des systèmes d'information", "Information security",
                                        ("cybersécurité", "SSI")),
    "gestion-des-donnees": Competence("Gestion et ouverture des données", "Data management and open data",
                                      ("gestion de données", "migration de données", "open data",
                                       "juridique (licences de réutilisation)")),
    "sig": Competence("Systèmes d'information géographique (SIG)", "Geographic information systems",
                      ("SIG", "géomatique", "cartographie", "cartographie collaborative")),
    "ingenierie-reseaux": Competence("Ingénierie des réseaux de télécommunications",
                                     "Telecommunication network engineering",
                                     ("télécommunications", "réseaux", "technique radio")),
    "amenagement-numerique": Competence("Aménagement numérique du territoire", "Digital land planning",
                                        ("aménagement numérique", "concertation avec les opérateurs")),
    "maintenance-informatique": Competence("Maintenance informatique", "IT maintenance",
                                           ("maintenance", "assistance utilisateurs", "reconditionnement")),
    "logiciel-libre": Competence("Logiciels libres", "Free software", ("logiciel libre", "open source")),
    "formation-des-adultes": Competence("Formation des adultes", "Adult training",
                                        ("formation des utilisateurs", "formation des élus",
                                         "formation d'animateurs", "formation des agents")),
    "mediation-numerique": Competence("Médiation numérique", "Digital mediation",
                                      ("médiation", "accompagnement des publics", "inclusion numérique")),
    "animation-multimedia": Competence("Animation multimédia", "Multimedia facilitation",
                                       ("animation", "animation d'ateliers d'écriture", "animation d'ateliers")),
    "action-sociale": Competence("Action sociale", "Social work", ("accueil social", "aide sociale")),
    "sante": Competence("Santé et autonomie", "Health and independent living", ("santé", "santé publique")),
    "concertation": Competence("Concertation et participation citoyenne", "Public participation",
                               ("concertation", "démocratie participative", "démocratie locale",
                                "citoyenneté")),
    "moderation": Competence("Animation de communauté et modération", "Community management and moderation",
                             ("modération", "animation de communauté", "community management")),
    "assemblees": Competence("Fonctionnement des assemblées", "Council proceedings",
                             ("assemblées", "délibérations")),
    "vie-associative": Competence("Accompagnement de la vie associative", "Support to associations",
                                  ("animation bénévole", "animation de bénévoles", "bénévolat")),
    "education-aux-medias": Competence("Éducation aux médias et à l'information", "Media literacy",
                                       ("éducation aux médias", "prévention", "journalisme", "EMI")),
    "pedagogie-numerique": Competence("Pédagogie numérique", "Digital pedagogy",
                                      ("pédagogie", "équipement scolaire", "numérique éducatif")),
    "animation-jeunesse": Competence("Animation jeunesse", "Youth work", ("enfance-jeunesse", "périscolaire")),
    "bibliotheconomie": Competence("Bibliothéconomie", "Library science",
                                   ("politique documentaire", "description documentaire", "catalogage")),
    "archivistique": Competence("Archivistique et numérisation", "Archiving and digitisation",
                                ("archivistique", "numérisation", "archives")),
    "mediation-culturelle": Competence("Médiation culturelle", "Cultural mediation",
                                       ("patrimoine", "histoire", "histoire locale", "vulgarisation")),
    "production-audiovisuelle": Competence("Production audiovisuelle", "Audiovisual production",
                                           ("audiovisuel", "vidéo", "webradio")),
    "programmation-artistique": Competence("Programmation artistique", "Artistic programming",
                                           ("événementiel", "arts numériques")),
    "fabrication-numerique": Competence("Fabrication numérique", "Digital fabrication",
                                        ("fablab", "impression 3D")),
    "insertion-professionnelle": Competence("Insertion professionnelle et emploi", "Employment support",
                                            ("insertion professionnelle", "emploi", "emploi saisonnier")),
    "developpement-economique": Competence("Développement économique", "Economic development",
                                           ("développement économique local", "accompagnement des entreprises",
                                            "aides aux entreprises", "immobilier d'entreprise",
                                            "commerce de proximité", "commerce électronique")),
    "animation-de-reseau": Competence("Animation de réseau d'acteurs", "Network facilitation",
                                      ("animation de réseau", "partenariats", "partenariats institutionnels",
                                       "relations avec les communes", "coordination de professionnels")),
    "marketing-territorial": Competence("Marketing territorial", "Territorial marketing",
                                        ("attractivité", "marque territoriale")),
    "promotion-touristique": Competence("Promotion touristique", "Tourism promotion",
                                        ("tourisme", "accueil touristique")),
    "maitrise-energie": Competence("Maîtrise de l'énergie et environnement", "Energy and environment",
                                   ("maîtrise de l'énergie", "énergie", "développement durable",
                                    "gestion des déchets", "ville intelligente")),
    "mobilite": Competence("Mobilité et transports", "Mobility and transport",
                           ("mobilité", "transport public", "information voyageurs", "régulation du trafic",
                            "stationnement", "systèmes temps réel")),
    "urbanisme": Competence("Urbanisme et services techniques", "Urban planning and technical services",
                            ("urbanisme", "habitat", "voirie", "services techniques", "gestion des espaces verts",
                             "reconversion de friches", "gestion de patrimoine")),
    "finances-locales": Competence("Finances locales", "Local finance",
                                   ("finances publiques", "régie de recettes", "facturation")),
    "gestion-equipements": Competence("Gestion d'équipements publics", "Public facility management",
                                      ("gestion d'équipement", "réservation d'équipements")),
    "gestion-de-crise": Competence("Gestion de crise", "Crisis management", ("alerte", "sécurité civile")),
    "accessibilite": Competence("Accessibilité numérique", "Digital accessibility", ("accessibilité", "RGAA")),
}

# Competences each ATLAAS usage needs (cap:competenceRequise); every usage has at least one.
COMPETENCES_REQUISES: dict[str, tuple[str, ...]] = {
    "1a1": ("relation-usager", "dematerialisation", "administration-site-web", "accessibilite"),
    "1a2": ("formation-des-adultes", "conduite-du-changement"),
    "1a3": ("conduite-de-projet", "marches-publics", "ingenierie-juridique", "logiciel-libre", "sig"),
    "1b1": ("gestion-des-donnees", "assemblees", "production-audiovisuelle"),
    "1b2": ("concertation", "moderation"),
    "1b3": ("vie-associative", "administration-site-web"),
    "1c1": ("protection-des-donnees", "securite-informatique"),
    "1c2": ("education-aux-medias", "animation-jeunesse"),
    "2a1": ("moderation", "conduite-de-projet"),
    "2a2": ("production-audiovisuelle", "sig", "redaction-web"),
    "2b1": ("maintenance-informatique", "ingenierie-reseaux", "action-sociale"),
    "2b2": ("mediation-numerique", "action-sociale"),
    "2c1": ("administration-site-web", "communication-publique", "mobilite", "gestion-de-crise"),
    "2c2": ("gestion-equipements", "finances-locales"),
    "3a1": ("pedagogie-numerique", "marches-publics", "ingenierie-reseaux"),
    "3a2": ("mediation-numerique", "animation-multimedia", "fabrication-numerique"),
    "3a3": ("pedagogie-numerique", "animation-jeunesse", "relation-usager"),
    "3b1": ("bibliotheconomie", "mediation-culturelle"),
    "3b2": ("programmation-artistique", "production-audiovisuelle"),
    "3c1": ("archivistique", "marches-publics"),
    "3c2": ("mediation-culturelle", "promotion-touristique"),
    "4a1": ("insertion-professionnelle",),
    "4a2": ("formation-des-adultes", "insertion-professionnelle"),
    "4b1": ("developpement-economique", "animation-de-reseau"),
    "4b2": ("animation-de-reseau", "developpement-economique"),
    "4b3": ("maitrise-energie", "gestion-des-donnees", "urbanisme"),
    "4c1": ("amenagement-numerique", "ingenierie-reseaux", "delegation-service-public"),
    "4c2": ("marketing-territorial", "communication-publique", "promotion-touristique", "moderation"),
}


@dataclass(frozen=True)
class Alignement:
    """How an OTeN theme maps to ATLAAS. Importer rule: use ``close`` targets, else ``broad``; ``narrow``
    targets are the finer concepts the theme covers (refine with the text); ``related`` is informative."""

    close: tuple[str, ...] = ()
    broad: tuple[str, ...] = ()
    narrow: tuple[str, ...] = ()
    related: tuple[str, ...] = ()


OTEN_ALIGNEMENT: dict[str, Alignement] = {
    "ADM": Alignement(close=("1a",), narrow=("1a1", "S10")),
    "DEM": Alignement(close=("1b",), narrow=("1b1", "1b2")),
    "INC": Alignement(close=("2b",), narrow=("2b1", "2b2", "3a2")),
    "EDU": Alignement(close=("3a",), narrow=("1c2", "4a2")),
    "CUL": Alignement(broad=("3",), narrow=("3b", "3c")),
    "ECO": Alignement(broad=("4",), narrow=("4a", "4b1", "4b2")),
    "INF": Alignement(close=("4c1",), related=("S38",)),
    "SAN": Alignement(broad=("2b",), related=("2a",)),
    "TOU": Alignement(close=("4c2",), narrow=("S70", "S92"), related=("3c2",)),
    "ENV": Alignement(close=("4b3",)),
    "MOB": Alignement(broad=("2c",), narrow=("S45",)),
    "SIG": Alignement(narrow=("S12", "S16", "S35"), related=("1a3", "1b1")),
}

STATUTS: tuple[tuple[str, str, str, str], ...] = (
    ("propose", "proposé", "proposed", "Le parrainage a été proposé, il attend la réponse des parties."),
    ("accepte", "accepté", "accepted", "Le parrain et le ou les filleuls ont accepté le parrainage."),
    ("en-cours", "en cours", "in progress", "L'accompagnement a commencé."),
    ("termine", "terminé", "completed", "L'accompagnement est terminé."),
)

# --------------------------------------------------------------------------------------------------------
# Reading the sources
# --------------------------------------------------------------------------------------------------------

_NUMBERED = re.compile(r"^\s*([0-9]+|[a-z])\s*[.)]\s*(.+?)\s*$")


@dataclass
class Node:
    notation: str
    label: str
    kind: str  # Axe, Enjeu, Usage, TypeService
    parent: str | None
    children: list[str] = field(default_factory=list)


def _split(value: object, what: str) -> tuple[str, str]:
    match = _NUMBERED.match(str(value or ""))
    if not match:
        raise SystemExit(f"Services: {what} sans numérotation : {value!r}")
    return match.group(1), match.group(2)


def read_services(workbook: Path) -> dict[str, Node]:
    """The ATLAAS hierarchy of the ``Services`` sheet, in sheet order, keyed by notation."""
    book = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
    try:
        rows = book["Services"].iter_rows(values_only=True)
        header = tuple(next(rows))
        if header[: len(SERVICES_HEADER)] != SERVICES_HEADER:
            raise SystemExit(f"Services: en-tête inattendu {header!r}")
        nodes: dict[str, Node] = {}
        for row in rows:
            if not row or not row[0]:
                continue
            service_id, axe, enjeu, usage, service = (str(v).strip() if v is not None else "" for v in row[:5])
            axe_num, axe_label = _split(axe, "axe")
            enjeu_letter, enjeu_label = _split(enjeu, "enjeu")
            usage_num, usage_label = _split(usage, "usage")
            levels = (
                (axe_num, axe_label, "Axe", None),
                (axe_num + enjeu_letter, enjeu_label, "Enjeu", axe_num),
                (axe_num + enjeu_letter + usage_num, usage_label, "Usage", axe_num + enjeu_letter),
                (service_id, service, "TypeService", axe_num + enjeu_letter + usage_num),
            )
            for notation, label, kind, parent in levels:
                known = nodes.get(notation)
                if known is None:
                    nodes[notation] = Node(notation, label, kind, parent)
                    if parent:
                        nodes[parent].children.append(notation)
                elif (known.label, known.parent) != (label, parent):
                    raise SystemExit(f"Services: {notation} a deux libellés ou parents ({known.label!r}, {label!r})")
        return nodes
    finally:
        book.close()


def read_thematiques(path: Path) -> tuple[str, list[dict[str, str]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return str(data.get("source", "")), list(data["thematiques"])


# --------------------------------------------------------------------------------------------------------
# Writing Turtle
# --------------------------------------------------------------------------------------------------------

PREFIXES = """@prefix cap: <https://w3id.org/capitalis/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix svc: <https://w3id.org/capitalis/id/service/> .
@prefix comp: <https://w3id.org/capitalis/id/competence/> .
@prefix oten: <https://w3id.org/capitalis/id/oten/> .
@prefix statut: <https://w3id.org/capitalis/id/statut-parrainage/> .
"""


def _lit(text: str, lang: str | None = None) -> str:
    return Literal(text, lang=lang).n3()


def _svc(notation: str) -> str:
    iri.concept(notation)  # validates the notation
    return f"svc:{notation}"


def _comp(key: str) -> str:
    if iri.slug(key) != key:
        raise SystemExit(f"compétence : clé non canonique {key!r}")
    return f"comp:{key}"


def _block(subject: str, pairs: list[tuple[str, list[str]]]) -> str:
    """One Turtle statement block; long object lists get one object per line."""
    body = []
    for predicate, objects in pairs:
        if not objects:
            continue
        line = f"    {predicate} {' , '.join(objects)}"
        if len(line) > 110 and len(objects) > 1:
            line = f"    {predicate}\n        " + " ,\n        ".join(objects)
        body.append(line)
    return f"{subject} ;\n" + " ;\n".join(body) + " .\n"


def _alt_labels(key: str, pref: str) -> list[str]:
    seen = {pref.casefold()}
    labels = []
    for alt in ALT_LABELS.get(key, ()):
        if alt.casefold() not in seen:
            seen.add(alt.casefold())
            labels.append(_lit(alt, "fr"))
    return labels


def _check(nodes: dict[str, Node], codes: list[str]) -> None:
    problems = [f"libellé anglais pour une notation inconnue : {k}" for k in ENGLISH if k not in nodes]
    problems += [f"synonymes pour une notation inconnue : {k}" for k in ALT_LABELS if k not in nodes]
    usages = [n.notation for n in nodes.values() if n.kind == "Usage"]
    problems += [f"usage sans compétence : {u}" for u in usages if not COMPETENCES_REQUISES.get(u)]
    problems += [f"compétences pour un non-usage : {k}" for k in COMPETENCES_REQUISES if k not in usages]
    problems += [
        f"compétence inconnue {c} (usage {u})"
        for u, cs in COMPETENCES_REQUISES.items()
        for c in cs
        if c not in COMPETENCES
    ]
    problems += [f"thématique OTeN sans alignement : {c}" for c in codes if c not in OTEN_ALIGNEMENT]
    problems += [f"alignement d'un code inconnu : {c}" for c in OTEN_ALIGNEMENT if c not in codes]
    for code, alignement in OTEN_ALIGNEMENT.items():
        targets = alignement.close + alignement.broad + alignement.narrow + alignement.related
        problems += [f"{code} aligné sur une notation inconnue : {t}" for t in targets if t not in nodes]
    labels: dict[str, str] = {}
    for key, comp in COMPETENCES.items():
        for label in (comp.fr, *comp.alt):
            norm = iri.normalise_texte(label)
            if labels.setdefault(norm, key) != key:
                problems.append(f"libellé de compétence ambigu {label!r} ({labels[norm]}, {key})")
    if problems:
        raise SystemExit("taxonomie incohérente :\n  " + "\n  ".join(problems))


def render(workbook: Path = WORKBOOK, thematiques: Path = THEMATIQUES) -> str:
    """The text of ``ontology/taxonomy.ttl``."""
    nodes = read_services(workbook)
    oten_source, themes = read_thematiques(thematiques)
    _check(nodes, [t["code"] for t in themes])
    axes = [n for n in nodes.values() if n.kind == "Axe"]
    out = [
        "# GENERATED by tools/gen_taxonomy.py from the Services sheet of data/samples/villes_internet_atlaas.xlsx,\n"
        "# data/samples/oten_thematiques.json and the curated data of the script: do not edit by hand.\n",
        PREFIXES,
        "# ATLAAS: 4 axes > 12 enjeux > 28 usages > 92 services\n",
        _block(
            "svc:scheme a skos:ConceptScheme",
            [
                ("skos:prefLabel", [_lit("Taxonomie ATLAAS des services numériques", "fr"),
                                    _lit("ATLAAS taxonomy of digital services", "en")]),
                ("dct:source", [_lit("Villes Internet, plateforme ATLAAS, feuille Services")]),
                ("skos:hasTopConcept", [_svc(a.notation) for a in axes]),
            ],
        ),
    ]
    for node in nodes.values():
        labels = [_lit(node.label, "fr")]
        if node.notation in ENGLISH:
            labels.append(_lit(ENGLISH[node.notation], "en"))
        pairs = [
            ("skos:notation", [_lit(node.notation)]),
            ("skos:prefLabel", labels),
            ("skos:altLabel", _alt_labels(node.notation, node.label)),
            ("skos:inScheme", ["svc:scheme"]),
            ("skos:topConceptOf", ["svc:scheme"] if node.kind == "Axe" else []),
            ("skos:broader", [_svc(node.parent)] if node.parent else []),
            ("skos:narrower", [_svc(c) for c in node.children]),
            ("cap:competenceRequise", [_comp(c) for c in COMPETENCES_REQUISES.get(node.notation, ())]),
        ]
        out.append(_block(f"{_svc(node.notation)} a skos:Concept , cap:{node.kind}", pairs))

    out.append("# Competences a project type needs\n")
    out.append(
        _block(
            "comp:scheme a skos:ConceptScheme",
            [
                ("skos:prefLabel", [_lit("Compétences des projets numériques", "fr"),
                                    _lit("Skills of digital projects", "en")]),
                ("skos:hasTopConcept", [_comp(k) for k in COMPETENCES]),
            ],
        )
    )
    for key, comp in COMPETENCES.items():
        seen = {comp.fr.casefold()}
        alts = [a for a in comp.alt if not (a.casefold() in seen or seen.add(a.casefold()))]
        pairs = [
            ("skos:notation", [_lit(key)]),
            ("skos:prefLabel", [_lit(comp.fr, "fr"), _lit(comp.en, "en")]),
            ("skos:altLabel", [_lit(a, "fr") for a in alts]),
            ("skos:inScheme", ["comp:scheme"]),
            ("skos:topConceptOf", ["comp:scheme"]),
        ]
        out.append(_block(f"{_comp(key)} a skos:Concept , cap:Competence", pairs))

    out.append("# OTeN themes, aligned to ATLAAS (importer: close, else broad; narrow = finer candidates)\n")
    out.append(
        _block(
            "oten:scheme a skos:ConceptScheme",
            [
                ("skos:prefLabel", [_lit("Thématiques de l'OTeN", "fr"), _lit("OTeN themes", "en")]),
                ("dct:source", [_lit(oten_source)] if oten_source else []),
                ("skos:hasTopConcept", [f"oten:{t['code']}" for t in themes]),
            ],
        )
    )
    for theme in themes:
        code = str(iri.oten_thematique(theme["code"])).rsplit("/", 1)[1]
        alignement = OTEN_ALIGNEMENT[code]
        pairs = [
            ("skos:notation", [_lit(code)]),
            ("skos:prefLabel", [_lit(theme["libelle"], "fr")]),
            ("skos:definition", [_lit(theme["definition"], "fr")] if theme.get("definition") else []),
            ("skos:inScheme", ["oten:scheme"]),
            ("skos:topConceptOf", ["oten:scheme"]),
            ("skos:closeMatch", [_svc(t) for t in alignement.close]),
            ("skos:broadMatch", [_svc(t) for t in alignement.broad]),
            ("skos:narrowMatch", [_svc(t) for t in alignement.narrow]),
            ("skos:relatedMatch", [_svc(t) for t in alignement.related]),
        ]
        out.append(_block(f"oten:{code} a skos:Concept , cap:ThematiqueOten", pairs))

    out.append("# Status of a parrainage\n")
    out.append(
        _block(
            "statut:scheme a skos:ConceptScheme",
            [
                ("skos:prefLabel", [_lit("Statuts de parrainage", "fr"), _lit("Sponsorship statuses", "en")]),
                ("skos:hasTopConcept", [f"statut:{key}" for key, *_ in STATUTS]),
            ],
        )
    )
    for key, fr, en, definition in STATUTS:
        iri.statut_parrainage(key)
        pairs = [
            ("skos:notation", [_lit(key)]),
            ("skos:prefLabel", [_lit(fr, "fr"), _lit(en, "en")]),
            ("skos:definition", [_lit(definition, "fr")]),
            ("skos:inScheme", ["statut:scheme"]),
            ("skos:topConceptOf", ["statut:scheme"]),
        ]
        out.append(_block(f"statut:{key} a skos:Concept , cap:StatutParrainage", pairs))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the target file is stale")
    parser.add_argument("--workbook", type=Path, default=WORKBOOK, help="ATLAAS workbook (Services sheet)")
    parser.add_argument("--thematiques", type=Path, default=THEMATIQUES, help="oten_thematiques.json")
    parser.add_argument("--output", type=Path, default=TARGET, help="the Turtle file to write or check")
    args = parser.parse_args(argv)
    text = render(args.workbook, args.thematiques)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python tools/gen_taxonomy.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
