"""Deployment assets: the local launcher, the Kafka fetch pom and the compose schema."""
