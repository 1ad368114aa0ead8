from .checkpoint import load_checkpoint_file, register_safe_globals
from .set_env import register_all_modules

__all__ = ['load_checkpoint_file', 'register_safe_globals', 'register_all_modules']
