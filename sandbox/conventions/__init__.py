"""The platform's conventions, one module each, as the request pipeline applies them."""
