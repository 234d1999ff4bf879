"""Orders service: an API that takes orders and a queue consumer that applies order events."""
