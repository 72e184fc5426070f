"""Data literals for the developer tools (shop/devtools): no code."""
