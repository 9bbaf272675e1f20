"""Deployment: manifests, container image, scale-out over sim_service replicas, Node client."""
