"""The fleet of the fake account: vehicles, their home cities and synthetic addresses.

Every value is a pure function of (seed, vehicle index); the plates, serials and addresses are
synthetic (etrac-api.md: "All example values ... are synthetic").
"""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass


def stable_int(*parts: object) -> int:
    """A 64-bit integer from ``parts`` that is the same in every process (``hash()`` is not)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rng_for(*parts: object) -> random.Random:
    return random.Random(stable_int(*parts))


def mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread hash for per-fix decisions (addresses)."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


@dataclass(frozen=True)
class City:
    """A home city. Trips stay inside the bearing sector where there is land (coastal cities)."""

    name: str
    uf: str
    lat: float
    lon: float
    bearing_from: float  # degrees clockwise from north
    bearing_width: float
    streets: tuple[str, ...]
    bairros: tuple[str, ...]


CITIES: tuple[City, ...] = (
    City("São Paulo", "SP", -23.5505, -46.6333, 0, 360,
         ("Av. Paulista", "R. Augusta", "Av. Brigadeiro Faria Lima", "R. da Consolação", "Av. Rebouças",
          "R. Vergueiro", "Av. Santo Amaro", "Av. Marquês de São Vicente", "R. Domingos de Morais"),
         ("Bela Vista", "Pinheiros", "Moema", "Santana", "Tatuapé", "Lapa", "Mooca", "Barra Funda")),
    City("Belo Horizonte", "MG", -19.9167, -43.9345, 0, 360,
         ("Av. Amazonas", "Av. Afonso Pena", "R. da Bahia", "Av. do Contorno", "Av. Cristiano Machado",
          "Av. Antônio Carlos", "R. Espírito Santo"),
         ("Centro", "Savassi", "Funcionários", "Pampulha", "Barreiro", "Venda Nova", "Gameleira")),
    City("Curitiba", "PR", -25.4284, -49.2733, 0, 360,
         ("R. XV de Novembro", "Av. Sete de Setembro", "Av. Mal. Floriano Peixoto", "R. Mal. Deodoro",
          "Av. República Argentina", "Av. Comendador Franco"),
         ("Centro", "Batel", "Água Verde", "Boqueirão", "Portão", "Cajuru", "CIC")),
    City("Campinas", "SP", -22.9099, -47.0626, 0, 360,
         ("Av. Francisco Glicério", "Av. Norte-Sul", "R. Barão de Jaguara", "Av. John Boyd Dunlop",
          "Av. das Amoreiras", "Rod. Anhanguera"),
         ("Centro", "Cambuí", "Taquaral", "Barão Geraldo", "Ouro Verde", "Jardim Chapadão")),
    City("Porto Alegre", "RS", -30.0346, -51.2177, 330, 220,
         ("Av. Ipiranga", "Av. Borges de Medeiros", "Av. Assis Brasil", "Av. Protásio Alves",
          "R. dos Andradas", "Av. Bento Gonçalves"),
         ("Centro Histórico", "Moinhos de Vento", "Menino Deus", "Sarandi", "Partenon", "Navegantes")),
    City("Recife", "PE", -8.0476, -34.8770, 190, 160,
         ("Av. Conde da Boa Vista", "Av. Caxangá", "R. da Aurora", "Av. Agamenon Magalhães",
          "Av. Mascarenhas de Morais", "Av. Norte"),
         ("Boa Vista", "Casa Forte", "Madalena", "Imbiribeira", "Afogados", "Várzea")),
    City("Salvador", "BA", -12.9714, -38.5014, 340, 90,
         ("Av. Tancredo Neves", "Av. Luís Viana", "Av. Antônio Carlos Magalhães", "R. Chile",
          "Av. Bonocô", "BR-324"),
         ("Pituba", "Itaigara", "Brotas", "Cabula", "Pernambués", "Sussuarana")),
    City("Goiânia", "GO", -16.6869, -49.2648, 0, 360,
         ("Av. Goiás", "Av. Anhanguera", "Av. T-63", "Av. 85", "R. 90", "Av. Independência"),
         ("Setor Central", "Setor Bueno", "Setor Oeste", "Setor Marista", "Jardim América", "Campinas")),
    City("Rio de Janeiro", "RJ", -22.9068, -43.1729, 270, 110,
         ("Av. Brasil", "Av. Presidente Vargas", "R. Voluntários da Pátria", "Av. Dom Hélder Câmara",
          "Estr. do Portela", "Av. Pastor Martin Luther King Jr."),
         ("Centro", "Tijuca", "Méier", "Madureira", "Penha", "Irajá")),
    City("Fortaleza", "CE", -3.7319, -38.5267, 100, 160,
         ("Av. Santos Dumont", "Av. Bezerra de Menezes", "Av. Washington Soares", "R. Barão do Rio Branco",
          "Av. Treze de Maio", "Av. João Pessoa"),
         ("Aldeota", "Centro", "Messejana", "Parangaba", "Fátima", "Montese")),
)  # fmt: skip


@dataclass(frozen=True)
class Model:
    name: str
    label: str  # the word used in descriptions, as fleets write them
    kind: str  # "car" | "van" | "truck": drives the daily pattern


MODELS: tuple[Model, ...] = (
    Model("VW CONSTELLATION 24.280", "CAMINHÃO", "truck"),
    Model("VW DELIVERY 9.170", "CAMINHÃO", "truck"),
    Model("MERCEDES-BENZ ATEGO 2426", "CAMINHÃO", "truck"),
    Model("VOLVO FH 540", "CARRETA", "truck"),
    Model("MERCEDES-BENZ SPRINTER 416", "VAN", "van"),
    Model("RENAULT MASTER", "VAN", "van"),
    Model("FIAT DUCATO", "VAN", "van"),
    Model("FIAT STRADA", "UTILITÁRIO", "car"),
    Model("FIAT FIORINO", "UTILITÁRIO", "car"),
    Model("TOYOTA HILUX", "PICAPE", "car"),
    Model("CHEVROLET S10", "PICAPE", "car"),
    Model("VW SAVEIRO", "UTILITÁRIO", "car"),
)

FIRST_NAMES = ("JOSÉ", "JOÃO", "ANTÔNIO", "FRANCISCO", "CARLOS", "PAULO", "PEDRO", "LUCAS", "MARCOS",
               "LUIZ", "GABRIEL", "RAFAEL", "DANIEL", "MARCELO", "BRUNO", "EDUARDO", "FELIPE", "MARIA",
               "ANA", "JULIANA")  # fmt: skip
LAST_NAMES = ("SILVA", "SANTOS", "OLIVEIRA", "SOUZA", "RODRIGUES", "FERREIRA", "ALVES", "PEREIRA",
              "LIMA", "GOMES", "COSTA", "RIBEIRO", "MARTINS", "CARVALHO", "ALMEIDA", "LOPES")  # fmt: skip

# (mean km per working day, km/h average moving speed, trips per day, first departure hour window)
KIND_PROFILES: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[float, float]]] = {
    "car": ((60, 140), (28, 40), (3, 7), (6.5, 8.5)),
    "van": ((90, 180), (30, 42), (4, 8), (6.0, 8.0)),
    "truck": ((150, 280), (40, 55), (2, 4), (4.5, 7.0)),
}

# How far from the garage the day's stops may lie; longer days are made of more winding roads.
MAX_RADIUS_KM: dict[str, float] = {"car": 15.0, "van": 20.0, "truck": 60.0}

WORK_WEEKS: tuple[tuple[frozenset[int], float], ...] = (
    (frozenset(range(5)), 0.70),  # Monday..Friday
    (frozenset(range(6)), 0.25),  # Monday..Saturday
    (frozenset(range(7)), 0.05),  # every day
)


@dataclass(frozen=True)
class Vehicle:
    """One terminal of the account and the habits that drive its simulated days."""

    index: int
    placa: str
    descricao: str
    frota: str
    equipamento_serial: str
    city: City
    home_lat: float
    home_lon: float
    kind: str
    mean_day_m: int  # mean distance of a working day, metres
    day_jitter_m: int  # a working day is mean +- this
    speed_kmh: float  # average speed while the ignition is on
    trips_per_day: tuple[int, int]
    departure_h: tuple[float, float]
    work_days: frozenset[int]
    odometer_base_m: int
    engine_base_s: int  # hour-meter at the epoch, seconds
    has_can: bool
    drivers: tuple[tuple[str, str], ...]  # (name, identification)


def make_plate(rng: random.Random) -> str:
    """Old format ``ABC1234`` or Mercosul ``ABC1D23`` (7 chars, no hyphen, upper case)."""
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
    if rng.random() < 0.5:
        return f"{letters}{rng.randrange(10000):04d}"
    return f"{letters}{rng.randrange(10)}{rng.choice(string.ascii_uppercase)}{rng.randrange(100):02d}"


def build_fleet(seed: int, count: int) -> tuple[Vehicle, ...]:
    """``count`` vehicles; vehicle i depends only on (seed, i) unless its plate collides."""
    vehicles: list[Vehicle] = []
    taken: set[str] = set()
    for index in range(count):
        rng = rng_for(seed, "vehicle", index)
        placa = make_plate(rng)
        attempt = 0
        while placa in taken:  # redraw from a derived stream so earlier vehicles never change
            attempt += 1
            placa = make_plate(rng_for(seed, "vehicle", index, "retry", attempt))
        taken.add(placa)
        vehicles.append(_make_vehicle(rng, index, placa))
    return tuple(vehicles)


def _make_vehicle(rng: random.Random, index: int, placa: str) -> Vehicle:
    model = rng.choice(MODELS)
    city = rng.choice(CITIES)
    frota = str(index + 1)
    mean_km, speed, trips, departure = KIND_PROFILES[model.kind]
    mean_day_m = rng.randint(*mean_km) * 1000
    weeks, weights = zip(*WORK_WEEKS, strict=True)
    # The garage sits a few km from the centre, inside the city's land sector.
    bearing = city.bearing_from + rng.uniform(0, city.bearing_width)
    dist_km = rng.uniform(1.0, 6.0)
    home_lat, home_lon = offset_latlon(city.lat, city.lon, bearing, dist_km)
    drivers = tuple(
        (f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", f"{rng.randrange(10**6, 10**7)}")
        for _ in range(rng.randint(1, 3))
    )
    return Vehicle(
        index=index,
        placa=placa,
        descricao=f"{model.name} - {model.label} {frota.zfill(2)}",
        frota=frota,
        equipamento_serial=f"86{rng.randrange(10**12, 10**13)}",
        city=city,
        home_lat=home_lat,
        home_lon=home_lon,
        kind=model.kind,
        mean_day_m=mean_day_m,
        day_jitter_m=int(mean_day_m * 0.4),
        speed_kmh=float(rng.randint(*speed)),
        trips_per_day=trips,
        departure_h=departure,
        work_days=rng.choices(weeks, weights)[0],
        odometer_base_m=rng.randint(5_000, 400_000) * 1000,
        engine_base_s=rng.randint(200, 12_000) * 3600,
        has_can=model.kind == "truck" and rng.random() < 0.7,
        drivers=drivers,
    )


def offset_latlon(lat: float, lon: float, bearing_deg: float, dist_km: float) -> tuple[float, float]:
    """Move ``dist_km`` along ``bearing_deg`` (flat-earth approximation, fine at city scale)."""
    import math

    rad = math.radians(bearing_deg)
    north, east = dist_km * math.cos(rad), dist_km * math.sin(rad)
    return lat + north / 110.574, lon + east / (111.320 * math.cos(math.radians(lat)))


def address(seed: int, city: City, lat: float, lon: float) -> str:
    """A synthetic reverse-geocoded address, stable for a ~100 m cell around (lat, lon)."""
    # Not cached on purpose: a cache would grow with the fleet and is what dominated the memory
    # of streaming a large answer; hashing a cell costs about a microsecond.
    cell_lat, cell_lon = round(lat * 1000), round(lon * 1000)
    h = mix64((seed * 1_000_003 + cell_lat * 7_919 + cell_lon) & 0xFFFFFFFFFFFFFFFF)
    street = city.streets[h % len(city.streets)]
    number = 10 + (h >> 8) % 2990
    bairro = city.bairros[(h >> 24) % len(city.bairros)]
    return f"{street}, {number} - {bairro}, {city.name} - {city.uf}"
