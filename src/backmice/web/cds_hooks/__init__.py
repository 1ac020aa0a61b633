"""CDS Hooks 2.0 under /cds-services: discovery, the services, feedback, and the JWT check that
every call passes. Cards come from :mod:`backmice.interop.cds_hooks`."""
