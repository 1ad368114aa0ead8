"""Import every salbox module that registers something, and set the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all salbox modules (mirrors ``mmseg.utils.register_all_modules``)."""
    import salbox.datasets  # noqa: F401
    import salbox.engine  # noqa: F401
    import salbox.evaluation.sod_metric  # noqa: F401  (salbox.evaluation exports it lazily)
    import salbox.models  # noqa: F401
    import salbox.structures  # noqa: F401
    import salbox.visualization.visualizer  # noqa: F401  (exported lazily, as above)

    if not init_default_scope:
        return
    never_created = DefaultScope.get_current_instance() is None \
        or not DefaultScope.check_instance_created('salbox')
    if never_created:
        DefaultScope.get_instance('salbox', scope_name='salbox')
        return
    current = DefaultScope.get_current_instance()
    if current.scope_name != 'salbox':
        warnings.warn(f'The current default scope "{current.scope_name}" is not "salbox"; '
                      '`register_all_modules` forces it to "salbox".')
        name = f'salbox-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='salbox')
