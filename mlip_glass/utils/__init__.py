"""Small shared utilities (LAMMPS loading, validation helpers)."""
