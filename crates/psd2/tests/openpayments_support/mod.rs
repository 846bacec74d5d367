//! Shared helpers of the Open Payments tests: the example bodies of seed 003
//! (`shared/seeds/003_*.txt`), verbatim, and a JSON leaf walker.
#![allow(dead_code)]

/// Seed 003: Create consent answer.
pub const CONSENT_CREATED: &str = r#"{
    "consentStatus": "received",
    "consentId": "70c6d203-e1d1-43ff-9e42-07e5dda640ba",
    "scaMethods": [
        {
            "authenticationType": "PUSH_OTP",
            "authenticationMethodId": "mbid",
            "name": "Mobilt BankID"
        },
        {
            "authenticationType": "CHIP_OTP",
            "authenticationMethodId": "mbid_same_device",
            "name": "Mobile BankID on this device"
        },
        {
            "authenticationType": "PHOTO_OTP",
            "authenticationMethodId": "mbid_animated_qr_token",
            "name": "Mobile BankID on another device"
        }
    ],
    "_links": {
        "self": {
            "href": "/psd2/consent/v1/consents/70c6d203-e1d1-43ff-9e42-07e5dda640ba"
        },
        "status": {
            "href": "/psd2/consent/v1/consents/70c6d203-e1d1-43ff-9e42-07e5dda640ba/status"
        },
        "startAuthorisation": {
            "href": "/psd2/consent/v1/consents/70c6d203-e1d1-43ff-9e42-07e5dda640ba/authorisations"
        }
    }
}"#;

/// Seed 003: Consent status answer.
pub const CONSENT_STATUS: &str = r#"{
    "consentStatus": "valid"
}"#;

/// Seed 003: Account list answer (`withBalance=true`).
pub const ACCOUNT_LIST: &str = r#"{
    "accounts": [
        {
            "resourceId": "ab82e294-b01d-4c21-b53e-9a39df7507d1",
            "iban": "SE123456789000532811",
            "bban": "89000532811",
            "currency": "SEK",
            "product": "Business Account",
            "cashAccountType": "OTHR",
            "status": "enabled",
            "bic": "ESSESESS",
            "usage": "ORGA",
            "balances": [
                {
                    "balanceAmount": {
                        "currency": "SEK",
                        "amount": "18959.990"
                    },
                    "balanceType": "interimAvailable",
                    "creditLimitIncluded": true
                },
                {
                    "balanceAmount": {
                        "currency": "SEK",
                        "amount": "16550.990"
                    },
                    "balanceType": "interimBooked",
                    "creditLimitIncluded": false
                },
                {
                    "balanceAmount": {
                        "currency": "SEK",
                        "amount": "18000.990"
                    },
                    "balanceType": "valueDated",
                    "creditLimitIncluded": false
                }
            ],
            "ownerName": "Company AB",
            "creditLimit": {
                "currency": "SEK",
                "amount": "0.000"
            }
        },
        {
            "resourceId": "d8d010fa-93c1-41c8-a352-bc0f6e788ab4",
            "iban": "SE304153657000123456",
            "bban": "57000123456",
            "currency": "SEK",
            "product": "Savings account",
            "cashAccountType": "OTHR",
            "status": "enabled",
            "bic": "ESSESESS",
            "usage": "ORGA",
            "balances": [
                {
                    "balanceAmount": {
                        "currency": "SEK",
                        "amount": "5062.090"
                    },
                    "balanceType": "interimAvailable",
                    "creditLimitIncluded": true
                },
                {
                    "balanceAmount": {
                        "currency": "SEK",
                        "amount": "3062.090"
                    },
                    "balanceType": "interimBooked",
                    "creditLimitIncluded": false
                },
                {
                    "balanceAmount": {
                        "currency": "SEK", 
                        "amount": "5000.090"
                    }, 
                    "balanceType": "valueDated", 
                    "creditLimitIncluded": false
                }
            ],
            "ownerName": "Company AB",
            "creditLimit": {
                "currency": "SEK",
                "amount": "0.000"
            }
        }
    ]
}"#;

/// Seed 003: Account details answer.
pub const ACCOUNT_DETAILS: &str = r#"{
    "resourceId": "ab82e294-b01d-4c21-b53e-9a39df7507d1",
    "iban": "SE123456789000532811",
    "bban": "89000532811",
    "bankgiroNumber": "12345678",
    "currency": "SEK",
    "product": "Business Account",
    "cashAccountType": "OTHR",
    "status": "enabled",
    "bic": "ESSESESS",
    "usage": "ORGA",
    "balances": [
        {
            "balanceAmount": {
                "currency": "SEK",
                "amount": "18959.990"
            },
            "balanceType": "interimAvailable",
            "creditLimitIncluded": true
        },
        {
            "balanceAmount": {
                "currency": "SEK",
                "amount": "16550.990"
            },
            "balanceType": "interimBooked",
            "creditLimitIncluded": false
        },
        {
            "balanceAmount": {
                "currency": "SEK",
                "amount": "18000.990"
            },
            "balanceType": "valueDated",
            "creditLimitIncluded": false
        }
    ],
    "ownerName": "Company AB",
    "creditLimit": {
        "currency": "SEK",
        "amount": "0.000"
    },
    "paymentsEnabled": true,
    "lastTransactionEnrichmentDateTime": "2025-04-23T20:51:16.803+00:00",
    "lastTransactionEnrichmentDateTimeUtc": "2025-04-23T20:51:16.803Z"
}"#;

/// Seed 003: Balances answer.
pub const BALANCES: &str = r#"{
    "balances": [
        {
            "balanceAmount": {
                "currency": "SEK",
                "amount": "18959.990"
            },
            "balanceType": "interimAvailable",
            "creditLimitIncluded": true
        },
        {
            "balanceAmount": {
                "currency": "SEK",
                "amount": "16550.990"
            },
            "balanceType": "interimBooked",
            "creditLimitIncluded": false
        },
        {
            "balanceAmount": {
                "currency": "SEK",
                "amount": "18000.990"
            },
            "balanceType": "valueDated",
            "creditLimitIncluded": false
        }
    ]
}"#;

/// Seed 003: Transaction list answer (one page, booked).
pub const TRANSACTIONS: &str = r#"{
  "account": {
    "iban": "SE1234567890123456788"
  },
  "transactions": {
    "booked": [
      {
        "transactionId": "ecc47512-ea64-4844-92d4-82d0a5968753", 
        "bookingDate": "2025-04-22", 
        "valueDate": "2025-04-22", 
        "transactionAmount": {
            "currency": "SEK", 
            "amount": "4165.00"
        }, 
        "creditorAccount": {},
        "debtorAccount": {},
        "remittanceInformationUnstructured": "Example 3",  
        "balanceAfterTransaction": {
            "balanceAmount": {
                "currency": "SEK", 
                "amount": "13227.090"
            },
            "balanceType": "interimBooked"
        },
        "_links": {
            "transactionDetails": {
                "href": "/psd2/accountinformation/v1/accounts/ab82e294-b01d-4c21-b53e-9a39df7507d1/transactions/ecc47512-ea64-4844-92d4-82d0a5968753"
            }
        },
        "proprietaryBankTransactionCodeText": "Transfer",
        "additionalInformation": "Payment for invoice",
        "transactionFees": []
      },
      {
        "transactionId": "0b1b498d-3951-4a48-8c71-3ca7bc9bf988",
        "entryReference": "LBE1234-5678-0000001",
        "bookingDate": "2025-04-22", 
        "valueDate": "2025-04-22",
        "transactionAmount": {
            "currency": "SEK", 
            "amount": "-1250.00"
        },
        "creditorName": "Merchant 123", 
        "creditorAccount": {
            "bankgiroNumber": "12345678"
        },
        "debtorName": "CompanyABC", 
        "debtorAccount": {
            "bankgiroNumber": "98765432"
        },
        "remittanceInformationUnstructured": "Example 2", 
        "remittanceInformationStructured": "INV-12345", 
        "remittanceInformationStructuredArray": [
            {
                "referredDocumentInformation": [
                    {
                        "typeCode": "CINV", 
                        "number": "INV-12345"
                    }
                ],
                "referredDocumentAmount": {
                    "remittedAmount": {
                        "currency": "SEK", 
                        "amount": "1250.00"
                    }
                }
            }
        ],
        "proprietaryBankTransactionCodeText": "TRF", 
        "balanceAfterTransaction": {
            "balanceAmount": {
                "currency": "SEK", 
                "amount": "9062.090"
            },
            "balanceType": "interimBooked"
        },
        "aggregateTransactionId": "d8lTg5nRk2qWzXgA7cNf3LhVYujXK9_E",
        "aggregateAmount": "-1250.00", 
        "aggregateRemittanceInformationUnstructured": "LBE1234-5678", 
        "isAliasPayout": true, 
        "isEnriched": true, 
        "paymentId": "b9c91da5-e78b-484a-acca-693120d75ab3",
        "transactionFees": []
      },
      {
        "transactionId": "700ed360-25e1-446a-94eb-775530c1adc0",
        "entryReference": "EX02-0005678", 
        "bookingDate": "2025-04-22", 
        "valueDate": "2025-04-22", 
        "transactionAmount": {
            "currency": "SEK", 
            "amount": "-2578.090"
        }, 
        "creditorAccount": {}, 
        "debtorAccount": {},
        "remittanceInformationUnstructured": "Example 1", 
        "balanceAfterTransaction": {
            "balanceAmount": {
                "currency": "SEK", 
                "amount": "10312.090"
            },
            "balanceType": "interimBooked"
        },
        "_links": {
            "transactionDetails": {
                "href": "/psd2/accountinformation/v1/accounts/ab82e294-b01d-4c21-b53e-9a39df7507d1/transactions/700ed360-25e1-446a-94eb-775530c1adc0"
            }
        },
        "proprietaryBankTransactionCodeText": "Transfer", 
        "transactionFees": []
      }
    ],
    "pending": [],
    "bankgiro": [],
    "_links": {
        "next": {
            "href": "/psd2/accountinformation/v1/accounts/ab82e294-b01d-4c21-b53e-9a39df7507d1/transactions?bookingStatus=booked&dateFrom=2025-04-21&dateTo=2025-04-22&continuationKey=0jrZlU66guCSgkTDQr8cuA"
        },
        "account": {
            "href": "/psd2/accountinformation/v1/accounts/ab82e294-b01d-4c21-b53e-9a39df7507d1"
        }
    }
  }
}"#;

/// Seed 003: Transaction details answer.
pub const TRANSACTION_DETAILS: &str = r#"{
    "transactionId": "700ed360-25e1-446a-94eb-775530c1adc0",
    "bookingDate": "2025-04-22",
    "valueDate": "2025-04-22",
    "transactionAmount": {
        "currency": "SEK",
        "amount": "-2578.090"
    },
    "currencyExchange": [
        {
            "exchangeRate": "0.07683",
            "targetCurrency": "GBP", 
            "targetAmount": "-198.19", 
            "exchangeFeeCurrency": "SEK", 
            "exchangeFeeAmount": "38.54"
        }
    ],
    "creditorName": "Merchant 123",
    "creditorAccount": {
        "iban": "GB1234567890001",
        "currency": "GBP"
    },
    "creditorAgent": "HBUKGB4B", 
    "debtorAccount": {
        "bban": "34567890123456788"
    },
    "remittanceInformationUnstructured": "Example 1", 
    "purposeCode": "OTHR", 
    "_links": {
        "proofOfPayment": {
            "href": "/accounts/ab82e294-b01d-4c21-b53e-9a39df7507d1/transactions/626bc7dc-fa30-4283-aed3-5aa87febef14/pop"
        }
    },
    "isEnriched": true, 
    "paymentId": "626bc7dc-fa30-4283-aed3-5aa87febef14", 
    "paymentServiceReference": "OPESE12345",
    "creditorAgentName": "HSBC UK BANK PLC", 
    "creditorAddress": {
        "street": "1 Centenary Square", 
        "buildingNumber": "1", 
        "city": "Birmingham", 
        "postalCode": "B1 1HQ", 
        "country": "GB"
    },
    "proprietaryBankTransactionCodeText": "Transfer", 
    "transactionFees": []
}"#;

#[path = "../seed_coverage/mod.rs"]
mod seed_coverage;

#[allow(unused_imports)]
pub use seed_coverage::{assert_covered, leaves, missing_leaves};
