import time, pytest
@pytest.mark.django_db
def test_speed(org, customer_factory):
    t = time.time()
    for _ in range(100):
        customer_factory(org.rep)
    print("100 customers", time.time() - t)
