"""Deliberately broken vrgtask plugins: vrgtask must survive them."""
