//! AWS IAM: the users of the credential report and their access keys.

use crate::clock::{at, DAY, HOUR, MIN, NOW};
use crate::iam::{AccessRequest, Kind, Person, Pools};
use crate::names;
use crate::rng::Gen;
use crate::unit::{Ns, Plant};
use crate::SynthError;

pub struct AwsKey {
    pub active: bool,
    pub last_rotated: i64,
    /// (when, region, service)
    pub last_used: Option<(i64, &'static str, &'static str)>,
}

pub enum Password {
    /// The root row: password columns are `not_supported` except last use.
    Root {
        last_used: Option<i64>,
    },
    Disabled,
    Enabled {
        last_used: i64,
        last_changed: i64,
    },
}

pub struct AwsUser {
    pub id: String,
    pub user: String,
    pub arn: String,
    pub created: i64,
    pub kind: Kind,
    pub privileged: bool,
    pub root: bool,
    pub password: Password,
    pub mfa: bool,
    pub keys: [Option<AwsKey>; 2],
    /// Accountable person of a service user (the connector's owner mapping).
    pub owner: Option<usize>,
    /// The approval of a privileged account (the connector's access-request mapping).
    pub access_request: Option<AccessRequest>,
}

const AWS_SERVICES: &[(&str, &str)] = &[
    ("deploy-bot", "ecs"),
    ("terraform-ci", "iam"),
    ("backup-s3-writer", "s3"),
    ("ci-artifacts", "s3"),
    ("legacy-reporting", "athena"),
    ("grafana-cloudwatch", "cloudwatch"),
    ("ses-mailer", "ses"),
    ("log-shipper", "logs"),
    ("cost-export", "ce"),
    ("velero-backup", "s3"),
    ("ecr-pull", "ecr"),
];

pub fn aws_users(
    g: &mut Gen,
    ns: &Ns,
    people: &[Person],
    pools: &Pools,
    plants: &mut Vec<Plant>,
) -> Result<(String, Vec<AwsUser>), SynthError> {
    let account = format!("{}", 300_000_000_000u64 + g.below(600_000_000_000));
    let sfx = ns.sfx();
    let mut out = Vec::new();
    let root_key = AwsKey {
        active: true,
        last_rotated: NOW - 52 * DAY - 3 * HOUR,
        last_used: Some((NOW - 45 * DAY - 2 * HOUR, "us-east-1", "iam")),
    };
    out.push(AwsUser {
        id: format!("aws-iam:<root_account>{sfx}"),
        user: "<root_account>".into(),
        arn: format!("arn:aws:iam::{account}:root"),
        created: at(2025, 1, 6, 11, 12),
        kind: Kind::Human,
        privileged: true,
        root: true,
        password: Password::Root {
            last_used: Some(NOW - 41 * DAY - 3 * HOUR - 17 * MIN),
        },
        mfa: true,
        keys: [Some(root_key), None],
        owner: None,
        access_request: None,
    });
    plants.push(Plant::new(
        "iam.break-glass-access-key",
        "Credential",
        format!("aws-iam:<root_account>{sfx}/access_key_1"),
        "active access key on the root account (rotated 52 days ago, last used 45 days ago)",
    ));

    // Humans: console and CLI users (administration goes through Okta SSO).
    let mut sres: Vec<usize> = pools.sre.clone();
    let mut devs: Vec<usize> = pools
        .engineers
        .iter()
        .copied()
        .filter(|i| !pools.sre.contains(i))
        .collect();
    g.shuffle(&mut sres);
    g.shuffle(&mut devs);
    let chosen: Vec<(usize, bool)> = sres
        .iter()
        .take(4)
        .map(|i| (*i, true))
        .chain(devs.iter().take(4).map(|i| (*i, false)))
        .collect();
    let mut taken = std::collections::BTreeSet::new();
    for (n, (i, _ops)) in chosen.into_iter().enumerate() {
        let p = people.get(i).ok_or(SynthError::EmptyPool("aws humans"))?;
        let initial: String = p
            .first
            .chars()
            .take(1)
            .flat_map(char::to_lowercase)
            .collect();
        let last: String = names::local_part("x", &p.last).chars().skip(2).collect();
        let mut base = format!("{initial}.{last}");
        let mut extra = 2;
        while !taken.insert(base.clone()) {
            base = format!("{initial}.{last}{extra}");
            extra += 1;
        }
        let user = format!("{base}{sfx}");
        let created = at(2025, 1, 20, 9, 0) + g.range(0, 200) * DAY;
        let key = (n % 2 == 0).then(|| AwsKey {
            active: true,
            last_rotated: NOW - g.range(5, 80) * DAY - g.range(0, 20 * HOUR),
            last_used: Some((NOW - g.range(HOUR, 3 * DAY), "eu-west-2", "sts")),
        });
        out.push(AwsUser {
            id: format!("aws-iam:{user}"),
            arn: format!("arn:aws:iam::{account}:user/{user}"),
            user,
            created,
            kind: Kind::Human,
            privileged: false,
            root: false,
            password: Password::Enabled {
                last_used: NOW - g.range(2 * HOUR, 25 * DAY),
                last_changed: NOW - g.range(10, 80) * DAY - g.range(0, 9 * HOUR),
            },
            mfa: true,
            keys: [key, None],
            owner: None,
            access_request: None,
        });
    }

    // Service users: access keys only; three are planted with stale keys.
    for (name, svc) in AWS_SERVICES {
        let user = format!("{name}{sfx}");
        let created = at(2025, 1, 20, 14, 0) + g.range(0, 160) * DAY;
        let stale = match *name {
            "ci-artifacts" => Some(97),
            "backup-s3-writer" => Some(146),
            "legacy-reporting" => Some(318),
            _ => None,
        };
        let rotated = match stale {
            Some(d) => NOW - d * DAY - g.range(0, 20 * HOUR),
            None => NOW - g.range(3, 85) * DAY - g.range(0, 20 * HOUR),
        };
        let key1 = AwsKey {
            active: true,
            last_rotated: rotated,
            last_used: Some((NOW - g.range(5 * MIN, 20 * HOUR), "eu-west-2", svc)),
        };
        let key2 = g.chance(40).then(|| {
            let r = NOW - g.range(200, 400) * DAY;
            AwsKey {
                active: false,
                last_rotated: r.max(created + DAY),
                last_used: Some((
                    r.max(created + DAY) + g.range(30, 80) * DAY,
                    "eu-west-2",
                    svc,
                )),
            }
        });
        if let Some(d) = stale {
            plants.push(Plant::new(
                "iam.access-key-not-rotated",
                "Credential",
                format!("aws-iam:{user}/access_key_1"),
                format!("active access key last rotated {d} days ago"),
            ));
        }
        out.push(AwsUser {
            id: format!("aws-iam:{user}"),
            arn: format!("arn:aws:iam::{account}:user/service/{user}"),
            user,
            created,
            kind: Kind::Service,
            privileged: false,
            root: false,
            password: Password::Disabled,
            mfa: false,
            keys: [Some(key1), key2],
            owner: Some(*g.pick("sre", &pools.sre)?),
            access_request: None,
        });
    }
    Ok((account, out))
}
