"""The deterministic e-Track world: what every vehicle did, fix by fix, on every local day.

Everything is a pure function of (seed, plate, day); generating one vehicle-day never needs
another day, so a 1,000-vehicle fleet is served without building it:

- **Distance and engine time are closed-form across days.** With ``W(D)`` = number of working
  days from ``EPOCH`` to day ``D`` (weekly pattern, counted arithmetically), the odometer at the
  start of ``D`` is ``base + mean*W(D) + h(W(D))`` where ``h`` is a hash in ``[0, jitter]``. A
  working day therefore drives ``mean + h(W+1) - h(W)`` metres, a rest day drives 0, and the
  odometer at the last fix of one day equals the one at the first fix of the next. The hour-meter
  is the cumulative distance divided by the vehicle's average speed, so it is closed-form too.
- **A day is a short list of segments** (``DayPlan``): parked stays (ignition off, a fix every
  15-60 min) and trips (ignition on, a fix every 30-120 s, from the garage through a few stops
  and back). Each segment draws its fixes from its own RNG, lazily, so the latest fix before
  "now" only needs the segment that contains now, and a day streams one segment at a time.
- **Trips** (``/resumoviagens``) are the ignition-on segments: first fix = ignition on at the
  origin, last fix = ignition off at the destination.

Ground truth for tests: ``positions`` yields what a correct client must hold after dedupe on
(placa, data_transmissao, latitude, longitude); ``trips`` and ``latest`` likewise; see
``day_summary``/``checksum_positions`` for cheap comparisons against warehouse rows.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sandbox.core import Clock
from sandbox.etrac.config import EtracConfig
from sandbox.etrac.fleet import (
    MAX_RADIUS_KM,
    Vehicle,
    address,
    build_fleet,
    offset_latlon,
    rng_for,
    stable_int,
)

EPOCH = date(2020, 1, 6)  # a Monday: odometers and hour-meters count working days from here
CLIENTE = "TRANSPORTES SANDBOX LTDA"
CLIENTE_FANTASIA = "SANDBOX"
LATEST_DEPARTURE_S = 23 * 3600 + 30 * 60  # every trip ends before 23:30 local
GPS_NOISE_DEG = 0.00002  # ~2 m: parked fixes wander a little, so duplicates are told apart by time


def normalize_plate(plate: str) -> str:
    """Request plates may carry a hyphen, spaces or lower case (etrac-api.md §2 E2, §6)."""
    return plate.replace("-", "").replace(" ", "").upper()


class Fix(NamedTuple):
    """One position as the tracker sent it (times are epoch seconds)."""

    t: int  # data_transmissao
    gravacao: int  # data_gravacao (receipt), t + 0-10 s, sometimes minutes
    lat: float  # rounded to 7 decimals, like the API's strings
    lon: float
    speed: int  # km/h
    ignition: bool
    odometer_km: int
    engine_s: int  # hour-meter in seconds (the API shows whole hours)
    battery: float  # volts, 1 decimal
    logradouro: str | None
    duplicate: bool  # the API sends this fix twice (exact duplicate)


@dataclass(frozen=True)
class Stay:
    """Parked (ignition off) from ``start`` to ``end`` (exclusive) at one place."""

    index: int
    start: int
    end: int
    lat: float
    lon: float
    odometer_m: int
    engine_s: int
    first_of_day: bool


@dataclass(frozen=True)
class Leg:
    """One trip: ignition on at ``start`` at ``path[0]``, off at ``end`` at ``path[-1]``."""

    index: int
    start: int
    end: int
    path: tuple[tuple[float, float], ...]  # lat/lon polyline, origin .. destination
    road_m: int  # distance the odometer advances (road, not straight line)
    odometer_m: int  # at the start
    engine_s: int  # at the start
    driver: tuple[str, str]  # (name, identification); ("", "") when not identified


@dataclass(frozen=True)
class DayPlan:
    vehicle: Vehicle
    day: date
    start: int  # local midnight, epoch seconds
    end: int  # next local midnight
    segments: tuple[Stay | Leg, ...]
    has_data: bool  # False before data_start / EPOCH: the day exists but nothing was recorded


@dataclass(frozen=True)
class DaySummary:
    """Counts and a checksum of one vehicle-day as a correct client would load it."""

    placa: str
    day: date
    positions: int
    checksum: str  # checksum_positions() of the deduplicated positions
    first: datetime | None
    last: datetime | None
    trips: int
    distance_km: float  # sum of the trips' distancia_conducao


class World:
    """The fleet and its history. ``clock`` bounds what exists: only fixes up to ``clock.now()``."""

    def __init__(self, config: EtracConfig, clock: Clock | None = None) -> None:
        self.seed = config.seed
        self.tz = ZoneInfo(config.timezone)
        self.data_start = max(config.data_start, EPOCH)
        self.drive_interval = config.drive_fix_interval_s
        self.park_interval = config.park_fix_interval_s
        self.duplicate_ratio = config.duplicate_ratio
        self.null_logradouro_ratio = config.null_logradouro_ratio
        self.late_gravacao_ratio = config.late_gravacao_ratio
        self.clock = clock
        # Live switches that change the data itself (corrections): read on every fix.
        self.switches = config
        self.vehicles: tuple[Vehicle, ...] = build_fleet(config.seed, config.vehicles)
        self._by_plate = {v.placa: v for v in self.vehicles}
        self._midnight = lru_cache(maxsize=4096)(self._midnight_uncached)

    # ---- fleet -----------------------------------------------------------------------------

    def plates(self) -> list[str]:
        """All plates, in the order ``/ultimas-posicoes`` lists them."""
        return [v.placa for v in self.vehicles]

    def find(self, plate: str) -> Vehicle | None:
        return self._by_plate.get(normalize_plate(plate))

    def vehicle(self, plate: str) -> Vehicle:
        found = self.find(plate)
        if found is None:
            raise KeyError(plate)
        return found

    def terminal(self, plate: str) -> dict[str, str]:
        """Master data as ``/ultimas-posicoes`` shows it (what ``e_track.terminals`` should hold)."""
        v = self.vehicle(plate)
        return {
            "placa": v.placa,
            "descricao": v.descricao,
            "frota": v.frota,
            "equipamento_serial": v.equipamento_serial,
        }

    def now(self) -> datetime | None:
        return self.clock.now().astimezone(self.tz) if self.clock else None

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    # ---- ground truth ------------------------------------------------------------------------

    def positions(self, plate: str, day: date, *, until: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Canonical positions of one local day, ascending, deduplicated, up to ``until``.

        ``until`` defaults to the clock's now (no limit without a clock). Each dict uses the API
        field names with parsed values: ``data_transmissao``/``data_gravacao`` aware datetimes in
        the world's zone, ``latitude``/``longitude`` floats (7 decimals), ``ignicao`` bool,
        ``velocidade``/``odometro``/``odometro_can``/``horimetro`` ints, ``bateria`` float,
        ``logradouro`` str or None, plus ``placa``/``descricao``/``frota``/``equipamento_serial``.
        Retention is a server switch, not part of the world: the server serves nothing for days
        older than ``retention_days`` even though they exist here.
        """
        v = self.vehicle(plate)
        for fix in self.fixes(plate, day, until=until):
            yield self.canonical(v, fix)

    def trips(self, plate: str, day: date, *, until: datetime | None = None) -> list[dict[str, Any]]:
        """Canonical trips (``/resumoviagens``) of one local day that ended by ``until``.

        Dates are aware datetimes, coordinates floats, odometers int km, ``duracao_conducao`` a
        timedelta, ``distancia_conducao`` float km (1 decimal); the API sends those as strings.
        """
        v = self.vehicle(plate)
        plan = self.plan(v, day)
        limit = self._limit(until)
        if not plan.has_data:
            return []
        return [self._trip(v, leg) for leg in plan.segments if isinstance(leg, Leg) and leg.end <= limit]

    def latest(self, plate: str, *, until: datetime | None = None) -> dict[str, Any] | None:
        """The vehicle's last fix at or before ``until`` (what ``/ultimas-posicoes`` shows).

        Needs ``until`` or a clock; None when the vehicle has no fix yet (before ``data_start``),
        in which case ``/ultimas-posicoes`` leaves the vehicle out.
        """
        v = self.vehicle(plate)
        fix = self.latest_fix(v, until=until)
        return None if fix is None else self.canonical(v, fix)

    def day_summary(self, plate: str, day: date, *, until: datetime | None = None) -> DaySummary:
        rows = list(self.positions(plate, day, until=until))
        trips = self.trips(plate, day, until=until)
        return DaySummary(
            placa=self.vehicle(plate).placa,
            day=day,
            positions=len(rows),
            checksum=checksum_positions(rows),
            first=rows[0]["data_transmissao"] if rows else None,
            last=rows[-1]["data_transmissao"] if rows else None,
            trips=len(trips),
            distance_km=round(sum(t["distancia_conducao"] for t in trips), 1),
        )

    def day_checksum(self, plate: str, day: date, *, until: datetime | None = None) -> str:
        return checksum_positions(self.positions(plate, day, until=until))

    # ---- raw streams (what the server serves, duplicates included) ---------------------------

    def fixes(
        self,
        plate: str,
        day: date,
        *,
        until: datetime | None = None,
        since: datetime | None = None,
        duplicates: bool = False,
        order: str = "asc",
    ) -> Iterator[Fix]:
        """Fixes of one day in ``[since, until]``; ``duplicates`` repeats the duplicated ones.

        ``order`` is ``asc``, ``desc`` or ``unordered`` (segments shuffled, fixes shuffled within
        a segment); only one segment is ever held in memory.
        """
        v = self.vehicle(plate)
        plan = self.plan(v, day)
        if not plan.has_data:
            return
        hi = self._limit(until)
        lo = int(since.timestamp()) if since is not None else plan.start
        segments = [s for s in plan.segments if s.start <= hi and s.end >= lo]
        if order == "asc":
            for seg in segments:
                yield from self._emit(self._segment_fixes(v, plan, seg, lo, hi), duplicates)
            return
        if order == "desc":
            for seg in reversed(segments):
                yield from self._emit(reversed(list(self._segment_fixes(v, plan, seg, lo, hi))), duplicates)
            return
        shuffler = rng_for(self.seed, v.placa, day, "unordered")
        shuffler.shuffle(segments)
        for seg in segments:
            batch = list(self._segment_fixes(v, plan, seg, lo, hi))
            shuffler.shuffle(batch)
            yield from self._emit(batch, duplicates)

    def window_fixes(
        self, plate: str, start: datetime, end: datetime, *, duplicates: bool = False, order: str = "asc"
    ) -> Iterator[Fix]:
        """Fixes with ``start <= data_transmissao <= end`` (both inclusive), across days."""
        first, last = self.local_day(start), self.local_day(end)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        if order == "desc":
            days.reverse()
        for day in days:
            yield from self.fixes(plate, day, since=start, until=end, duplicates=duplicates, order=order)

    def latest_fix(self, v: Vehicle, *, until: datetime | None = None) -> Fix | None:
        hi = self._limit(until)
        if hi == _NO_LIMIT:
            raise ValueError("latest needs a clock or an explicit until")
        day = datetime.fromtimestamp(hi, self.tz).date()
        for back in range(3):  # a rest day still has parked fixes, so two days back is plenty
            plan = self.plan(v, day - timedelta(days=back))
            if not plan.has_data:
                return None
            for seg in reversed(plan.segments):
                if seg.start > hi:
                    continue
                last = None
                for fix in self._segment_fixes(v, plan, seg, plan.start, hi):
                    last = fix
                if last is not None:
                    return last
        return None

    def canonical(self, v: Vehicle, fix: Fix) -> dict[str, Any]:
        return {
            "placa": v.placa,
            "descricao": v.descricao,
            "frota": v.frota,
            "equipamento_serial": v.equipamento_serial,
            "data_transmissao": datetime.fromtimestamp(fix.t, self.tz),
            "data_gravacao": datetime.fromtimestamp(fix.gravacao, self.tz),
            "latitude": fix.lat,
            "longitude": fix.lon,
            "logradouro": fix.logradouro,
            "velocidade": fix.speed,
            "ignicao": fix.ignition,
            "odometro": fix.odometer_km,
            "odometro_can": can_odometer(v, fix.odometer_km),
            "horimetro": fix.engine_s // 3600,
            "bateria": fix.battery,
        }

    # ---- the plan of a day ---------------------------------------------------------------------

    def plan(self, v: Vehicle, day: date) -> DayPlan:
        """Segments of one vehicle-day; O(trips), independent of every other day."""
        start, end = self._midnight(day), self._midnight(day + timedelta(days=1))
        has_data = day >= self.data_start
        worked = self._working_days_before(v, day)
        odo0 = v.odometer_base_m + self._cum_m(v, worked)
        engine0 = self._engine_s(v, self._cum_m(v, worked))
        if day < EPOCH or day.weekday() not in v.work_days:
            stay = Stay(0, start, end, v.home_lat, v.home_lon, odo0, engine0, True)
            return DayPlan(v, day, start, end, (stay,), has_data)
        distance = self._cum_m(v, worked + 1) - self._cum_m(v, worked)
        engine_total = self._engine_s(v, self._cum_m(v, worked + 1)) - engine0
        segments = self._working_day(v, day, start, end, odo0, engine0, distance, engine_total)
        return DayPlan(v, day, start, end, segments, has_data)

    def _working_day(
        self, v: Vehicle, day: date, start: int, end: int, odo0: int, engine0: int, distance: int, engine: int
    ) -> tuple[Stay | Leg, ...]:
        rng = rng_for(self.seed, v.placa, day, "plan")
        n_legs = rng.randint(*v.trips_per_day)
        # A loop garage -> stops -> garage; sorted bearings keep it a loop rather than a star.
        city = v.city
        bearings = sorted(city.bearing_from + rng.uniform(0, city.bearing_width) for _ in range(n_legs - 1))
        unit = [(0.0, 0.0)]
        for bearing in bearings:
            rho = rng.uniform(0.35, 1.0)
            unit.append((rho * math.sin(math.radians(bearing)), rho * math.cos(math.radians(bearing))))
        unit.append((0.0, 0.0))
        leg_unit = [math.dist(unit[i], unit[i + 1]) for i in range(n_legs)]
        detour = rng.uniform(1.25, 1.45)  # road km per straight-line km
        km_per_unit = min(distance / 1000 / (detour * sum(leg_unit)), MAX_RADIUS_KM[v.kind])
        stops = [(v.home_lat, v.home_lon)]
        for east, north in unit[1:-1]:
            lat, lon = offset_latlon(v.home_lat, v.home_lon, 0, north * km_per_unit)
            stops.append(offset_latlon(lat, lon, 90, east * km_per_unit))
        stops.append(stops[0])
        road = apportion(distance, leg_unit)
        durations = apportion(engine, [r / rng.uniform(0.8, 1.2) for r in road])
        durations = _at_least(durations, 60)
        pauses = [rng.randint(10 * 60, 90 * 60) for _ in range(n_legs - 1)]
        departure = int(rng.uniform(*v.departure_h) * 3600)
        spare = LATEST_DEPARTURE_S - departure - sum(durations)
        if spare < sum(pauses):  # a long day: shorten the stops, then leave earlier
            pauses = [max(600, p * max(spare, 0) // max(sum(pauses), 1)) for p in pauses]
            departure = max(1800, min(departure, LATEST_DEPARTURE_S - sum(durations) - sum(pauses)))
        segments: list[Stay | Leg] = []
        t, odo, eng = start + departure, odo0, engine0
        segments.append(Stay(0, start, t, v.home_lat, v.home_lon, odo, eng, True))
        for i in range(n_legs):
            a, b = stops[i], stops[i + 1]
            driver = rng.choice(v.drivers) if rng.random() < 0.55 else ("", "")
            path = (a, *_waypoints(rng, a, b), b)
            leg = Leg(len(segments), t, t + durations[i], path, road[i], odo, eng, driver)
            segments.append(leg)
            t, odo, eng = leg.end, odo + road[i], eng + durations[i]
            stay_end = t + pauses[i] if i < n_legs - 1 else end
            segments.append(Stay(len(segments), t, stay_end, b[0], b[1], odo, eng, False))
            t = stay_end
        return tuple(segments)

    def _working_days_before(self, v: Vehicle, day: date) -> int:
        n = (day - EPOCH).days
        if n <= 0:
            return 0
        weeks, rest = divmod(n, 7)
        return weeks * len(v.work_days) + sum(1 for wd in range(rest) if wd in v.work_days)

    def _cum_m(self, v: Vehicle, worked: int) -> int:
        """Metres driven from EPOCH to the start of working day number ``worked`` (closed form)."""
        return v.mean_day_m * worked + stable_int(self.seed, v.placa, "odometer", worked) % (
            v.day_jitter_m + 1
        )

    def _engine_s(self, v: Vehicle, cum_m: int) -> int:
        return v.engine_base_s + int(cum_m * 3.6 / v.speed_kmh)

    def _midnight_uncached(self, day: date) -> int:
        return int(datetime.combine(day, time(0), self.tz).timestamp())

    def _limit(self, until: datetime | None) -> int:
        if until is not None:
            return int(until.timestamp())
        if self.clock is not None:
            return int(self.clock.now().timestamp())
        return _NO_LIMIT

    # ---- fixes of one segment --------------------------------------------------------------------

    def _segment_fixes(self, v: Vehicle, plan: DayPlan, seg: Stay | Leg, lo: int, hi: int) -> Iterator[Fix]:
        rng = rng_for(self.seed, v.placa, plan.day, "segment", seg.index)
        if isinstance(seg, Stay):
            yield from self._stay_fixes(rng, v, seg, lo, hi)
        else:
            yield from self._leg_fixes(rng, v, seg, lo, hi)

    def _stay_fixes(self, rng: Any, v: Vehicle, seg: Stay, lo: int, hi: int) -> Iterator[Fix]:
        low, high = self.park_interval
        t = seg.start + (_randint(rng, 0, high) if seg.first_of_day else _randint(rng, low, high))
        odo_km = seg.odometer_m // 1000
        while t < seg.end and t <= hi:
            hours_parked = (t - seg.start) / 3600
            battery = round(max(11.9, 12.7 - 0.03 * hours_parked + rng.uniform(-0.1, 0.1)), 1)
            lat = seg.lat + rng.uniform(-GPS_NOISE_DEG, GPS_NOISE_DEG)
            lon = seg.lon + rng.uniform(-GPS_NOISE_DEG, GPS_NOISE_DEG)
            fix = self._fix(rng, v, t, lat, lon, 0, False, odo_km, seg.engine_s, battery)
            if t >= lo:
                yield fix
            t += _randint(rng, low, high)

    def _leg_fixes(self, rng: Any, v: Vehicle, leg: Leg, lo: int, hi: int) -> Iterator[Fix]:
        # Pass 1: fix times and how hard the vehicle moved in each interval (0 = stopped at a light);
        # distance is spread in proportion so the leg covers exactly road_m.
        low, high = self.drive_interval
        times = [leg.start]
        t = leg.start
        while True:
            t += _randint(rng, low, high)
            if t >= leg.end:
                break
            times.append(t)
        times.append(leg.end)
        weights = [0.0] + [0.0 if rng.random() < 0.06 else rng.uniform(0.45, 1.55) for _ in times[1:]]
        weights[1] *= 0.6  # pulling out
        weights[-1] *= 0.6  # parking
        acc = [0.0]
        for i in range(1, len(times)):
            acc.append(acc[-1] + weights[i] * (times[i] - times[i - 1]))
        if acc[-1] <= 0:
            weights = [0.0] + [1.0] * (len(times) - 1)
            acc = [float(tt - leg.start) for tt in times]
        total = acc[-1]
        lengths = [0.0]
        for i in range(len(leg.path) - 1):
            lengths.append(lengths[-1] + math.dist(leg.path[i], leg.path[i + 1]))
        last = len(times) - 1
        # Pass 2: one fix per time (endpoints exactly at origin/destination, ignition off at the end).
        for i, t in enumerate(times):
            if t > hi:
                return
            frac = acc[i] / total
            if i == 0 or i == last:
                lat, lon = leg.path[0] if i == 0 else leg.path[-1]
                speed = 0
            else:
                lat, lon = _along(leg.path, lengths, frac)
                lat += rng.uniform(-GPS_NOISE_DEG, GPS_NOISE_DEG)
                lon += rng.uniform(-GPS_NOISE_DEG, GPS_NOISE_DEG)
                speed = round(leg.road_m * weights[i] / total * 3.6)
            odo_km = (leg.odometer_m + (leg.road_m if i == last else int(leg.road_m * frac))) // 1000
            battery = round(rng.uniform(12.3, 12.6) if i == 0 else rng.uniform(13.6, 14.3), 1)
            fix = self._fix(
                rng, v, t, lat, lon, speed, i != last, odo_km, leg.engine_s + t - leg.start, battery
            )
            if t >= lo:
                yield fix

    def _fix(
        self,
        rng: Any,
        v: Vehicle,
        t: int,
        lat: float,
        lon: float,
        speed: int,
        ignition: bool,
        odo_km: int,
        engine_s: int,
        battery: float,
    ) -> Fix:
        # Every draw happens whether or not the fix is inside the requested window, so a fix is
        # the same whichever window asked for it.
        late = rng.random() < self.late_gravacao_ratio
        delay = _randint(rng, 60, 1800) if late else _randint(rng, 0, 10)
        lat, lon = self._corrected_position(v.placa, t, round(lat, 7), round(lon, 7))
        null_address = rng.random() < self.null_logradouro_ratio
        duplicate = rng.random() < self.duplicate_ratio
        logradouro = None if null_address else address(self.seed, v.city, lat, lon)
        return Fix(t, t + delay, lat, lon, speed, ignition, odo_km, engine_s, battery, logradouro, duplicate)

    # ---- corrections (switch correction_round) -----------------------------------------------------

    def _correction(self, *parts: object) -> int | None:
        """A hash of ``parts`` when the current correction round changes that record, else None.

        Decided by hashing, never by drawing from a segment's RNG, so the rest of the world is
        the same in every round.
        """
        c = self.switches
        if c.correction_round <= 0:
            return None
        h = stable_int(self.seed, "correction", c.correction_round, *parts)
        return h if (h % 1_000_000) < c.correction_ratio * 1_000_000 else None

    def _corrected_position(self, plate: str, t: int, lat: float, lon: float) -> tuple[float, float]:
        """The fix as the API shows it in this round: moved 5-30 m, or as first sent."""
        h = self._correction(plate, "fix", t)
        if h is None:
            return lat, lon
        bearing, metres = (h >> 20) % 360, 5 + (h >> 40) % 26
        moved = offset_latlon(lat, lon, bearing, metres / 1000)
        return round(moved[0], 7), round(moved[1], 7)

    def _trip_start(self, plate: str, leg: Leg) -> int:
        """When the API says a trip started in this round: 5-120 s early, or as first sent."""
        h = self._correction(plate, "trip", leg.start)
        return leg.start if h is None else leg.start - 5 - (h >> 20) % 116

    @staticmethod
    def _emit(fixes: Iterable[Fix], duplicates: bool) -> Iterator[Fix]:
        for fix in fixes:
            yield fix
            if duplicates and fix.duplicate:
                yield fix

    def _trip(self, v: Vehicle, leg: Leg) -> dict[str, Any]:
        (lat0, lon0), (lat1, lon1) = leg.path[0], leg.path[-1]
        lat0, lon0, lat1, lon1 = (round(x, 7) for x in (lat0, lon0, lat1, lon1))
        start = self._trip_start(v.placa, leg)
        return {
            "cliente": CLIENTE,
            "cliente_fantasia": CLIENTE_FANTASIA,
            "placa": v.placa,
            "descricao": v.descricao,
            "frota": v.frota,
            "data_inicio_conducao": datetime.fromtimestamp(start, self.tz),
            "data_fim_conducao": datetime.fromtimestamp(leg.end, self.tz),
            "latitude_inicio_conducao": lat0,
            "longitude_inicio_conducao": lon0,
            "latitude_fim_conducao": lat1,
            "longitude_fim_conducao": lon1,
            "localizacao_inicio_conducao": address(self.seed, v.city, lat0, lon0),
            "localizacao_fim_conducao": address(self.seed, v.city, lat1, lon1),
            "odometro_inicio_conducao": leg.odometer_m // 1000,
            "odometro_fim_conducao": (leg.odometer_m + leg.road_m) // 1000,
            "duracao_conducao": timedelta(seconds=leg.end - start),
            "distancia_conducao": round(leg.road_m / 1000, 1),
            "condutor_nome": leg.driver[0],
            "condutor_identificacao": leg.driver[1],
        }


_NO_LIMIT = 2**62


def _randint(rng: Any, low: int, high: int) -> int:
    """``randint`` without its argument checks: the hot loop draws several per fix."""
    return low + int(rng.random() * (high - low + 1))


def can_odometer(v: Vehicle, odometer_km: int) -> int:
    """CAN-bus odometer: only some trucks report one, slightly off the GPS odometer; else 0."""
    return int(odometer_km * 1.013) + 1500 if v.has_can else 0


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split integer ``total`` in proportion to ``weights`` (largest remainder): sums exactly."""
    wsum = sum(weights)
    raw = [total * w / wsum for w in weights]
    parts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _at_least(parts: list[int], minimum: int) -> list[int]:
    """Raise tiny parts to ``minimum`` by taking from the largest, keeping the sum."""
    parts = list(parts)
    for i, p in enumerate(parts):
        if p < minimum:
            j = max(range(len(parts)), key=parts.__getitem__)
            parts[j] -= minimum - p
            parts[i] = minimum
    return parts


def _waypoints(rng: Any, a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
    """Two bends so a trip is not a straight line (roads are not)."""
    dlat, dlon = b[0] - a[0], b[1] - a[1]
    out = []
    for share in (0.33, 0.66):
        bend = rng.uniform(-0.15, 0.15)
        out.append((a[0] + dlat * share - dlon * bend, a[1] + dlon * share + dlat * bend))
    return out


def _along(path: tuple[tuple[float, float], ...], lengths: list[float], frac: float) -> tuple[float, float]:
    target = frac * lengths[-1]
    for i in range(1, len(path)):
        if target <= lengths[i] or i == len(path) - 1:
            span = lengths[i] - lengths[i - 1]
            k = 0.0 if span <= 0 else min(1.0, (target - lengths[i - 1]) / span)
            (lat0, lon0), (lat1, lon1) = path[i - 1], path[i]
            return lat0 + (lat1 - lat0) * k, lon0 + (lon1 - lon0) * k
    return path[-1]


# ---- comparing a client's rows with the ground truth ---------------------------------------------


def position_line(row: Mapping[str, Any]) -> str:
    """One canonical text line per position.

    ``row`` needs ``placa``, ``data_transmissao`` (aware datetime), ``latitude``/``longitude``
    (floats), ``velocidade``, ``ignicao`` (bool or 0/1) and ``odometro`` (int km): exactly the
    typed columns of ``e_track.positions``. The time is written in UTC, so rows read back from
    ``timestamptz`` columns in any session zone give the same line.
    """
    ts = row["data_transmissao"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{row['placa']}|{ts}|{float(row['latitude']):.7f}|{float(row['longitude']):.7f}"
        f"|{int(row['velocidade'])}|{int(bool(row['ignicao']))}|{int(row['odometro'])}"
    )


def checksum_positions(rows: Iterable[Mapping[str, Any]]) -> str:
    """sha256 of the sorted ``position_line`` of each row, order-insensitive.

    To check a load: select the positions of (placa, local day) from the warehouse as dicts with
    the keys above and compare ``checksum_positions(rows)`` with ``world.day_checksum(placa, day)``
    (or ``day_summary(...).checksum``); compare counts first for a clearer failure.
    """
    digest = hashlib.sha256()
    for line in sorted(position_line(r) for r in rows):
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
