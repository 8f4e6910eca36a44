"""Simulated charge points for Locust: each user is one charge point of ocpp16's Station model.

    pip install 'ocpp16[locust]'
    ocpp16 serve --port 9000 --json > /dev/null &          # or your central system
    locust -f locustfile.py --headless -u 1000 -r 100 -t 60s --host ws://127.0.0.1:9000/ocpp

Every CALL is a Locust request of type OCPP named after its action; the --ocpp-* options
(locust -f locustfile.py --help) override the class attributes below for one run.
"""

from typing import ClassVar

from ocpp16.locust import ChargePointUser


class ChargePoint(ChargePointUser):
    identity_prefix = "CP"  # identities CP0-00001, CP0-00002, ...; CP1-... on worker 1
    connectors = 2
    sessions = "auto"  # random sessions (or plan = "plan.toml": timed events per connector)
    speed = 1.0  # the station's clock: 60 makes a simulated hour last a minute
    # Configuration keys, as ocpp16 sim --config.
    config: ClassVar = {"MeterValueSampleInterval": "60"}
