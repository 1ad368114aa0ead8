from .sal_data_sample import PRIOR_KEY, SalDataSample, original_image

__all__ = ['PRIOR_KEY', 'SalDataSample', 'original_image']
