"""``python -m sim_service``: run the simulation server."""

from sim_service.server import main

main()
