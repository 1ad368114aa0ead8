"""The suite's ``slow`` marker, in one place.

``pytest tests`` runs everything (CI does). ``pytest tests -m "not slow"`` is the quick run for
development, about 2 minutes on 2 CPU cores: it leaves out the tests below, which train for
dozens of iterations or start salbox's tools in child processes (each several seconds to a
minute). The lists name modules and test functions, so a renamed test is not silently dropped
from either run: ``test_slow_lists_name_real_tests`` checks that every entry still exists.
"""
import os.path as osp

import pytest

TESTS = osp.dirname(osp.abspath(__file__))
# Whole modules: training loops, tool subprocesses, ONNX export.
SLOW_MODULES = {
    'integration/test_arn_learns.py', 'integration/test_dgrl_synthetic.py',
    'integration/test_distributed_and_resume.py', 'integration/test_r3net_learns.py',
    'integration/test_r3net_paper_config.py', 'integration/test_r3net_synthetic.py',
    'models/test_mi_promoter_fast_path.py', 'tools/test_analysis_tools.py',
    'tools/test_baseline_spectral_residual.py', 'tools/test_example_project.py',
    'tools/test_pytorch2onnx.py', 'tools/test_train_tool.py',
    'hostile/test_checkpoint_security.py', 'hostile/test_folder_runs.py',
    'hostile/test_memory.py', 'hostile/test_user_errors.py',
    'tools/test_u2net_tools.py',
    'serve/test_concurrency.py', 'serve/test_browser.py',
}
# Single tests of otherwise quick modules.
SLOW_TESTS = {
    'models/test_mi_promoter.py': {
        'test_label_free_fit_improves_corrupted_priors_without_reading_masks',
        'test_tool_fit_runs_the_configs_pipeline_schedule_and_options',
        'test_online_mode_fits_a_fresh_head_per_image'},
    'models/test_dgrl_brn.py': {'test_brn_improves_a_blurred_first_stage_map'},
    'models/test_arn.py': {'test_arn_at_224_shapes_and_identity_attention_at_init'},
    'models/test_tta.py': {'test_flip_tta_does_not_lower_max_f_of_a_trained_model'},
    'test_registry_and_plugins.py': {'test_user_head_registered_by_custom_imports',
                                     'test_types_resolve_from_a_fresh_interpreter_by_scope'},
    'utils/test_lazy_safe_loading.py': {
        'test_mmengine_loads_through_salbox_once_enabled_after_importing_salbox',
        'test_mmengine_loads_through_salbox_once_enabled_after_importing_mmengine',
        'test_importing_salbox_changes_nothing_in_mmengine',
        'test_sod_metric_is_registered_when_a_config_names_it'},
    'tools/test_baseline_maps.py': {'test_missing_mask_folder_is_one_line',
                                    'test_centre_prior_maps_match_mask_names_and_sizes'},
    'tools/test_arn_split.py': {'test_too_few_images_is_a_one_line_error'},
    'models/test_u2net.py': {'test_forward_equals_onnxruntime_on_real_photos'},
    'cli/test_salbox_command.py': {
        'test_folder_of_photos_gives_maps_and_cutouts_resumes_and_reports_a_corrupt_file',
        'test_video_gives_a_map_video_and_rgba_frames',
        'test_alpha_matting_bgcolor_and_only_mask'},
    'configs/test_metafiles.py': {'test_recipe_reads_the_layout_the_converters_write'},
}


def module_of(item) -> str:
    return osp.relpath(str(item.path), TESTS).replace(osp.sep, '/')


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: trains or starts tools in child processes '
                                       '(deselect with -m "not slow"; tests/conftest.py)')


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = module_of(item)
        if module in SLOW_MODULES or item.originalname in SLOW_TESTS.get(module, ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def one_thread():
    """Small convs on a shared 2-core machine run far faster on one intra-op thread."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
