from .sal_data_sample import SalDataSample, original_image

__all__ = ['SalDataSample', 'original_image']
