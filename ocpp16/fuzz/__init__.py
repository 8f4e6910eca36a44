"""``ocpp16 fuzz``: an OCPP 1.6-J fuzzer for central systems, and ``ocpp16 replay``.

- :mod:`~ocpp16.fuzz.mutators`: payload and frame mutations;
- :mod:`~ocpp16.fuzz.cases`: case number n of a seed (payload, frame and sequence cases);
- :mod:`~ocpp16.fuzz.wire`: raw frames over ``websockets`` (asyncio);
- :mod:`~ocpp16.fuzz.oracles`: what counts as a finding, and the findings;
- :mod:`~ocpp16.fuzz.security`: the security probes;
- :mod:`~ocpp16.fuzz.run`: what a run takes and gives (options, live numbers, the report);
- :mod:`~ocpp16.fuzz.engine`: the run (``run_fuzz(FuzzOptions(...))``);
- :mod:`~ocpp16.fuzz.probe`: boot, Heartbeat, and whether the target is alive, hung or gone;
- :mod:`~ocpp16.fuzz.replay`, :mod:`~ocpp16.fuzz.minimize`: replaying frames, delta debugging;
- :mod:`~ocpp16.fuzz.reduce`: minimizing the findings of a run;
- :mod:`~ocpp16.fuzz.reproducer`, :mod:`~ocpp16.fuzz.report`: the files written;
- :mod:`~ocpp16.fuzz.target`: the ``--restart-cmd`` process.

Nothing here is imported by ``import ocpp16``.
"""
