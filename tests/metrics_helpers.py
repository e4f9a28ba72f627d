"""Reading a Warden node's `/metrics` in tests: scrape it and look samples up by name and labels."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = list[tuple[str, dict[str, str], float]]


def scrape(url: str, **headers: str) -> Samples:
    response = httpx.get(f"{url}/metrics", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return [(s.name, dict(s.labels), s.value) for family in text_string_to_metric_families(response.text)
            for s in family.samples]


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when there is none)."""
    return sum(v for n, have, v in samples if n == name and all(have.get(k) == w for k, w in labels.items()))


def present(samples: Samples, name: str) -> bool:
    return any(n == name for n, _, _ in samples)
