from .sal_data_sample import SalDataSample

__all__ = ['SalDataSample']
