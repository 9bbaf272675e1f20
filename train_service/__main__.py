"""``python -m train_service``: run the training server."""

from train_service.server import main

main()
