//! The officer directory on both databases: the unit tree and its subtrees, validation of what
//! administrators type, renames and merges that keep history, and officer claims read live.

mod support;

use xacthuc::officers::directory::AdminRole;
use xacthuc::officers::{DirectoryError, NewOfficer, NewUnit, OfficerStatus, UnitKind};
use xacthuc::store::Db;

async fn with_db(name: &str, f: impl AsyncFn(Db)) {
    let (db, _dir) = support::sqlite_db().await;
    f(db).await;
    match support::pg_db().await {
        Some(pg) => {
            f(pg.db.clone()).await;
            pg.drop_db().await;
        }
        None => eprintln!("{name}: PostgreSQL part skipped (DATABASE_URL not set)"),
    }
}

fn unit(code: &str, name: &str, kind: UnitKind, parent: Option<&str>) -> NewUnit {
    NewUnit { code: code.into(), name: name.into(), kind, parent_code: parent.map(String::from) }
}

fn officer(username: &str, unit_code: &str) -> NewOfficer {
    NewOfficer {
        username: username.into(),
        full_name: "  Nguyễn   Văn An ".into(),
        unit_code: unit_code.into(),
        position: Some("Chuyên viên".into()),
        ..Default::default()
    }
}

async fn province(db: &Db) {
    db.create_unit(&unit("31", "Thành phố Hải Phòng", UnitKind::Province, None), 1).await.unwrap();
    db.create_unit(&unit("31.stp", "Sở Tư pháp", UnitKind::Department, Some("31")), 1).await.unwrap();
    db.create_unit(&unit("31.x1", "Xã An Lư", UnitKind::Commune, Some("31")), 1).await.unwrap();
    db.create_unit(&unit("31.x2", "Xã An Hưng", UnitKind::Commune, Some("31")), 1).await.unwrap();
    db.create_unit(&unit("31.x2.1", "Bộ phận một cửa", UnitKind::Agency, Some("31.x2")), 1).await.unwrap();
}

#[tokio::test]
async fn units_form_a_tree_with_subtrees() {
    with_db("units", async |db| {
        province(&db).await;
        let root = db.unit_by_code("31").await.unwrap().unwrap();
        let x2 = db.unit_by_code("31.x2").await.unwrap().unwrap();
        assert_eq!(db.subtree(&root, false).await.unwrap().len(), 5);
        let codes: Vec<String> = db.subtree(&x2, false).await.unwrap().into_iter().map(|u| u.code).collect();
        assert_eq!(codes, vec!["31.x2", "31.x2.1"]);
        assert!(root.contains(&x2) && !x2.contains(&root));
        // Bad input gets a precise error and stores nothing.
        let e = db.create_unit(&unit("31", "Dup", UnitKind::Commune, Some("31")), 1).await.unwrap_err();
        assert!(matches!(e, DirectoryError::Conflict { field: "code" }), "{e}");
        let e = db.create_unit(&unit("x y", "Bad", UnitKind::Commune, Some("31")), 1).await.unwrap_err();
        assert!(matches!(e, DirectoryError::Invalid { field: "code", .. }), "{e}");
        let e = db.create_unit(&unit("31.x9", "Orphan", UnitKind::Commune, None), 1).await.unwrap_err();
        assert!(matches!(e, DirectoryError::Invalid { field: "parent_code", .. }), "{e}");
        let e = db.create_unit(&unit("31.x9", "Orphan", UnitKind::Commune, Some("99")), 1).await.unwrap_err();
        assert!(matches!(e, DirectoryError::NotFound(_)), "{e}");
        assert_eq!(db.subtree(&root, true).await.unwrap().len(), 5);
    })
    .await;
}

#[tokio::test]
async fn officers_are_validated_and_unique() {
    with_db("officers", async |db| {
        province(&db).await;
        let o = db.create_officer(&officer("An.Nguyen", "31.x1"), 2).await.unwrap();
        assert_eq!(o.username, "an.nguyen", "usernames are case-insensitive");
        assert_eq!(o.full_name, "Nguyễn Văn An", "white space is collapsed");
        assert_eq!(o.status, OfficerStatus::Active);
        assert!(!o.has_password, "a new officer sets a password through a link");
        assert!(db.account(&o.id).await.unwrap().is_some(), "the provider account exists");
        let e = db.create_officer(&officer("an.nguyen", "31.x1"), 2).await.unwrap_err();
        assert!(matches!(e, DirectoryError::Conflict { field: "username" }), "{e}");
        let mut bad = officer("binh", "31.x1");
        bad.personal_id = Some("123".into());
        let e = db.create_officer(&bad, 2).await.unwrap_err();
        assert!(matches!(e, DirectoryError::Invalid { field: "personal_id", .. }), "{e}");
        bad.personal_id = Some("031095012345".into());
        let b = db.create_officer(&bad, 2).await.unwrap();
        assert_eq!(b.personal_id.as_deref(), Some("031095012345"));
        let mut dup = officer("binh2", "31.x1");
        dup.personal_id = Some("031095012345".into());
        let e = db.create_officer(&dup, 2).await.unwrap_err();
        assert!(matches!(e, DirectoryError::Conflict { field: "personal_id" }), "{e}");
        let mut formula = officer("formula", "31.x1");
        formula.full_name = "=HYPERLINK(\"http://evil\")".into();
        let e = db.create_officer(&formula, 2).await.unwrap_err();
        assert!(matches!(e, DirectoryError::Invalid { field: "full_name", .. }), "no spreadsheet formulas: {e}");
        let e = db.create_officer(&officer("x", "31.x1"), 2).await.unwrap_err();
        assert!(matches!(e, DirectoryError::Invalid { field: "username", .. }), "{e}");
        let e = db.create_officer(&officer("chi", "nowhere"), 2).await.unwrap_err();
        assert!(matches!(e, DirectoryError::NotFound(_)), "{e}");
        // Roles per relying party, and admin grants on a unit.
        db.set_officer_roles(&o.id, "eoffice", &["van-thu".into(), "lanh-dao".into()]).await.unwrap();
        assert_eq!(db.officer_roles(&o.id, "eoffice").await.unwrap(), vec!["lanh-dao", "van-thu"]);
        assert!(db.officer_roles(&o.id, "one-stop").await.unwrap().is_empty(), "roles are per client");
        let x1 = db.unit_by_code("31.x1").await.unwrap().unwrap();
        db.grant_admin(&o.id, AdminRole::UnitAdmin, &x1.id).await.unwrap();
        db.grant_admin(&o.id, AdminRole::UnitAdmin, &x1.id).await.unwrap();
        assert_eq!(db.admin_grants(&o.id).await.unwrap().len(), 1, "granting twice is idempotent");
        db.set_officer_status(&o.id, OfficerStatus::Suspended, 3).await.unwrap();
        assert_eq!(db.officer(&o.id).await.unwrap().unwrap().status, OfficerStatus::Suspended);
        let root = db.unit_by_code("31").await.unwrap().unwrap();
        let page1 = db.officers_in(&root, "", 1).await.unwrap();
        let page2 = db.officers_in(&root, &page1[0].username, 10).await.unwrap();
        assert_eq!((page1.len(), page2.len()), (1, 1));
        assert_ne!(page1[0].id, page2[0].id);
    })
    .await;
}

#[tokio::test]
async fn merges_move_officers_and_keep_history() {
    with_db("merge", async |db| {
        province(&db).await;
        let a = db.create_officer(&officer("an.le", "31.x1"), 2).await.unwrap();
        let b = db.create_officer(&officer("binh", "31.x2"), 2).await.unwrap();
        let c = db.create_officer(&officer("chi", "31.x2.1"), 2).await.unwrap();
        let x1 = db.unit_by_code("31.x1").await.unwrap().unwrap();
        let x2 = db.unit_by_code("31.x2").await.unwrap().unwrap();
        // Two communes merge into one (July 2025): x2 into x1.
        let moved = db.merge_units(std::slice::from_ref(&x2.id), &x1.id, 10).await.unwrap();
        assert_eq!(moved, 1, "x2's own officer moved");
        assert_eq!(db.officer(&b.id).await.unwrap().unwrap().unit_id, x1.id);
        assert_eq!(db.officer(&a.id).await.unwrap().unwrap().unit_id, x1.id);
        let closed = db.unit(&x2.id).await.unwrap().unwrap();
        assert_eq!((closed.valid_to, closed.merged_into.as_deref()), (Some(10), Some(x1.id.as_str())));
        // x2's agency now sits under x1, with its officer.
        let agency = db.unit_by_code("31.x2.1").await.unwrap().unwrap();
        assert_eq!(agency.parent_id.as_deref(), Some(x1.id.as_str()));
        assert!(x1.contains(&agency), "{} under {}", agency.path, x1.path);
        let codes: Vec<String> = db.subtree(&x1, false).await.unwrap().into_iter().map(|u| u.code).collect();
        assert_eq!(codes, vec!["31.x1", "31.x2.1"]);
        assert_eq!(db.officer(&c.id).await.unwrap().unwrap().unit_id, agency.id);
        // Merging again, or into a closed unit, is refused.
        assert!(db.merge_units(std::slice::from_ref(&x2.id), &x1.id, 11).await.is_err());
        assert!(db.merge_units(std::slice::from_ref(&x1.id), &x2.id, 11).await.is_err());
        let root = db.unit_by_code("31").await.unwrap().unwrap();
        assert!(db.merge_units(std::slice::from_ref(&root.id), &x1.id, 11).await.is_err(), "not an ancestor");
        // Rename: the current name changes, the old one is kept.
        let renamed = db.rename_unit(&x1.id, "Xã An Lư mới", 12).await.unwrap();
        assert_eq!(renamed.name, "Xã An Lư mới");
        assert!(db.rename_unit(&x2.id, "closed", 12).await.is_err());
        // Moving an officer closes their posting.
        let moved = db.move_officer(&a.id, "31.stp", Some("Phó giám đốc"), 13).await.unwrap();
        assert_eq!(moved.position.as_deref(), Some("Phó giám đốc"));
    })
    .await;
}

#[tokio::test]
async fn setup_links_work_once_and_expire() {
    use xacthuc::officers::setup::SetupPurpose;
    with_db("setup links", async |db| {
        province(&db).await;
        let o = db.create_officer(&officer("dung.tran", "31.x1"), 2).await.unwrap();
        let first = db.issue_setup_link(&o.id, SetupPurpose::Initial, 100).await.unwrap();
        let second = db.issue_setup_link(&o.id, SetupPurpose::Reset, 101).await.unwrap();
        assert!(db.peek_setup_link(&first, 102).await.unwrap().is_none(), "a new link voids the older one");
        assert_eq!(db.peek_setup_link(&second, 102).await.unwrap(), Some((o.id.clone(), SetupPurpose::Reset)));
        assert!(db.use_setup_link(&second, 101 + 24 * 3600 + 1).await.unwrap().is_none(), "expired");
        assert_eq!(db.use_setup_link(&second, 103).await.unwrap().map(|x| x.0), Some(o.id.clone()));
        assert!(db.use_setup_link(&second, 104).await.unwrap().is_none(), "once only");
        assert!(db.use_setup_link(&"x".repeat(500), 104).await.unwrap().is_none());
    })
    .await;
}
