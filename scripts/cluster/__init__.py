"""`make run-cluster`: the production topology on one machine, in one command.

    HAProxy on MESO_BIND_HOST:MESO_PUBLIC_PORT (the one public port)
      /webhooks/, Rasa's API  -> N Rasa processes (127.0.0.1:rasa_port, rasa_port+1, ...)
      everything else         -> the staff console (127.0.0.1:console_port)
    HAProxy on 127.0.0.1:action_port (private) -> M action servers (127.0.0.1:action_port+1, ...)
    shared: the PostgreSQL tracker store (also the channels' delivery log and widget sessions), the Redis lock store

- `topology.py`: what runs where, from the settings (ports, stores, generated files, environments);
- `stores.py`: the shared stores are there before anything starts (the database is created if missing);
- `haproxy.py`: HAProxy's configuration, its check, and the servers' states from its stats socket;
- `supervisor.py`: starting, watching and restarting processes with back-off, and stopping them all;
- `launch.py`: the order of it all, the ready line, Ctrl-C.

docs/deploy.md describes the topology, its settings and what is not done yet.
"""
