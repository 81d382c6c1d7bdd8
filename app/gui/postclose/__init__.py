"""Post-close performance (SPEC §9) in the window: buyers, buy boxes and their properties."""
