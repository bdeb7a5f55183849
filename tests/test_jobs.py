"""Background jobs run through the real queue: Huey's SQLite storage by default, Redis when
REDIS_URL is set (the PostgreSQL CI run)."""

import pytest
from huey.contrib.djhuey import HUEY

from custodia.protection import jobs
from custodia.protection.keyring import get_keyring
from custodia.protection.models import DataKey


@pytest.fixture
def queue():
    HUEY.flush()
    yield HUEY
    HUEY.flush()


def run_one(huey):
    task = huey.dequeue()
    assert task is not None, "the job was not in the queue"
    return huey.execute(task)


@pytest.mark.django_db(transaction=True)
def test_interrupted_kek_rotation_is_finished_by_the_worker(org, customer_factory, queue):
    for _ in range(3):
        customer_factory(org.rep)
    new_kid = get_keyring().add_kek()
    assert DataKey.objects.exclude(kek_id=new_kid).exists()
    jobs.kek_rewrap_resume()  # enqueued, not run
    assert queue.pending_count() == 1
    assert run_one(queue) == 3
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {new_kid}
    # Idempotent: a second run has nothing to do.
    jobs.kek_rewrap_resume()
    assert run_one(queue) == 0


def test_queue_backend_matches_configuration(settings):
    import os

    expected = "RedisHuey" if os.environ.get("REDIS_URL") else "SqliteHuey"
    assert expected in type(HUEY).__name__ or expected.replace("Redis", "PriorityRedis") in type(HUEY).__name__
