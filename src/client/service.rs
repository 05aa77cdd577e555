//! The ALTR services and their production base URLs.

/// The ALTR services, each with its own base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    Api,
    AltrNet,
    Classification,
    ScControl,
    ServiceUser,
    AuditReport,
    Vault,
    Critical,
    Kma,
    DamAlerting,
}

impl Service {
    pub const ALL: [Service; 10] = [
        Service::Api,
        Service::AltrNet,
        Service::Classification,
        Service::ScControl,
        Service::ServiceUser,
        Service::AuditReport,
        Service::Vault,
        Service::Critical,
        Service::Kma,
        Service::DamAlerting,
    ];

    /// A short name, for metrics and logs.
    pub fn id(self) -> &'static str {
        match self {
            Service::Api => "api",
            Service::AltrNet => "altrnet",
            Service::Classification => "classification",
            Service::ScControl => "sc_control",
            Service::ServiceUser => "service_user",
            Service::AuditReport => "audit_report",
            Service::Vault => "vault",
            Service::Critical => "critical",
            Service::Kma => "kma",
            Service::DamAlerting => "dam_alerting",
        }
    }

    /// The environment variable that overrides this service's base URL.
    pub fn env_var(self) -> &'static str {
        match self {
            Service::Api => "ALTR_API_BASE_URL",
            Service::AltrNet => "ALTR_ALTRNET_BASE_URL",
            Service::Classification => "ALTR_CLASSIFICATION_BASE_URL",
            Service::ScControl => "ALTR_SC_CONTROL_BASE_URL",
            Service::ServiceUser => "ALTR_SERVICE_USER_BASE_URL",
            Service::AuditReport => "ALTR_AUDIT_REPORT_BASE_URL",
            Service::Vault => "ALTR_VAULT_BASE_URL",
            Service::Critical => "ALTR_CRITICAL_BASE_URL",
            Service::Kma => "ALTR_KMA_BASE_URL",
            Service::DamAlerting => "ALTR_DAM_ALERTING_BASE_URL",
        }
    }

    /// The production base URL for an org.
    pub fn default_base_url(self, org_id: &str) -> String {
        match self {
            Service::Api => "https://api.live.altr.com".into(),
            Service::AltrNet => "https://altrnet.live.altr.com".into(),
            Service::Classification => format!("https://{org_id}.classification.live.altr.com"),
            Service::ScControl => format!("https://{org_id}.sc-control.live.altr.com"),
            Service::ServiceUser => format!("https://{org_id}.service-user.live.altr.com"),
            Service::AuditReport => format!("https://{org_id}.audit-report.live.altr.com/v1"),
            Service::Vault => format!("https://{org_id}.vault.live.altr.com/api/v2"),
            Service::Critical => format!("https://{org_id}.critical.live.altr.com/v2"),
            Service::Kma => format!("https://{org_id}.kma.live.altr.com/v1"),
            Service::DamAlerting => {
                format!("https://{org_id}.dam-alerting.live.altr.com/v1/dam-alerting")
            }
        }
    }
}
